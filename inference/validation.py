"""Checks shared by the readers of user-written YAML (the schema, its rules): one error naming file, key and fix."""

from __future__ import annotations

import re

from .errors import NewstagError


def fail(source: str, key: str, problem: str, fix: str):
    raise NewstagError(f"{source}: {key}: {problem}; {fix}")


def check_keys(source: str, where: str, got: dict, allowed: set[str]) -> None:
    unknown = sorted(set(got) - allowed)
    if unknown:
        fail(source, f"{where}.{unknown[0]}", "unknown key", f"use one of {', '.join(sorted(allowed))}")


def compile_patterns(source: str, where: str, raw, literal: bool = False) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    out = []
    for j, pat in enumerate(raw):
        if not isinstance(pat, str) or not pat:
            fail(source, f"{where}[{j}]", "must be a non-empty string", "quote the pattern")
        if literal:  # word boundaries only where the phrase starts or ends with a word character
            body = r"\s+".join(re.escape(w) for w in pat.split())
            pat = (r"\b" if re.match(r"\w", pat) else "") + body + (r"\b" if re.search(r"\w$", pat) else "")
        try:
            re.compile(pat)
        except re.error as err:
            fail(source, f"{where}[{j}]", f"invalid regular expression {pat!r} ({err})", "fix or escape the pattern")
        out.append(pat)
    return tuple(out)
