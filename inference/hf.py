"""newstag in transformers' registries: ``AutoConfig`` ("newstag"), ``AutoModel`` and the "newstag" pipeline task.

``import inference`` calls :func:`install`. Each registration runs as soon as transformers' own module that holds
the registry is imported (at once where it already is), so after ``import inference`` ``AutoConfig``,
``AutoModel.from_pretrained(FOLDER)`` and ``pipeline("newstag", model=FOLDER)`` know the model, while importing
``inference`` alone (the dataset builder, ``--help``) does not pay for transformers' modeling code, seconds to
import on a small CPU.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys

# transformers' module holding each registry -> the module of newstag that registers itself there on import
REGISTRATIONS = {
    "transformers.models.auto.configuration_auto": "inference.configuration",  # AutoConfig
    "transformers.models.auto.modeling_auto": "inference.modeling",  # AutoModel
    "transformers.pipelines": "inference.pipeline",  # pipeline("newstag")
}


def _register(module: str) -> None:
    # a plain import: when the transformers module was imported by that very module of newstag (still
    # running), it registers itself at its end
    importlib.import_module(module)


class _AfterImport(importlib.abc.MetaPathFinder):
    """Finds nothing itself: wraps the loader of each transformers module of ``pending`` so that the newstag
    module registering there is imported right after it has been executed."""

    def __init__(self, pending: dict):
        self.pending = pending

    def find_spec(self, name, path, target=None):
        if name not in self.pending:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _RegisteringLoader(spec.loader, self.pending.pop(name))
            if not self.pending and self in sys.meta_path:
                sys.meta_path.remove(self)
        return spec


class _RegisteringLoader(importlib.abc.Loader):
    def __init__(self, loader, module: str):
        self._loader, self._module = loader, module

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _register(self._module)

    def __getattr__(self, name):  # get_resource_reader, is_package, ... of the real loader
        return getattr(self._loader, name)


def install() -> None:
    """Register newstag with transformers now where its modules are loaded, else when they are."""
    pending = {}
    for module, ours in REGISTRATIONS.items():
        if module in sys.modules:
            _register(ours)
        else:
            pending[module] = ours
    if pending and not any(isinstance(f, _AfterImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _AfterImport(pending))
