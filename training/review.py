"""Review a dataset's unlabeled articles in the browser: ``newstag-review DATASET_DIR [--model MODEL_DIR]``.

Example:
    newstag-review runs/ds --model runs/model --gold runs/ds.gold.jsonl      # prints http://127.0.0.1:8765
    newstag-build data/sample --gold runs/ds.gold.jsonl -o runs/ds2 && newstag-train --data runs/ds2 -o runs/model2

A local web page (FastAPI on uvicorn; the ``review`` extra) shows the article whose decision would teach the
most (model uncertainty, rules and model disagreeing, rare topics, unlike the articles decided so far; near
duplicates of reviewed articles left out), with the sentences that drove each topic highlighted, the rules' votes and the model's scores. The
analyst toggles topics, picks a stance and accepts, skips or goes back, from the keyboard. Each decision is
appended at once to the gold file in the format ``newstag-build --gold`` reads; re-opening resumes. The server
binds to 127.0.0.1 unless told otherwise; requests that change the gold file need the page's token.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from inference.cli import HelpFormatter, description
from inference.errors import NewstagError, cli_errors


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="newstag-review", description=description(__doc__), formatter_class=HelpFormatter,
                                epilog="Example: newstag-review runs/ds --model runs/model --gold runs/ds.gold.jsonl")
    p.add_argument("dataset", metavar="DATASET_DIR", help="dataset folder written by newstag-build")
    p.add_argument("--model", metavar="MODEL_DIR", help="model folder for scores, evidence and the queue "
                                                        "(default: none, the rules alone rank the queue)")
    p.add_argument("--gold", metavar="OUT.jsonl", help="gold file the decisions are appended to "
                                                       "(default: DATASET_DIR.gold.jsonl beside the dataset folder)")
    p.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port (0: any free one)")
    p.add_argument("--annotator", default=None, help="name written with each decision (default: the login name)")
    p.add_argument("--near", type=float, default=0.3, metavar="X",
                   help="articles whose word 3-grams overlap this much count as near duplicates: once one has a "
                        "decision the others are not offered (1: only the dataset's own duplicate clusters)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random queue")
    p.add_argument("--device", help="cpu, cuda, ... for the model (default: GPU when available)")
    p.add_argument("--no-cache", action="store_true", help="score the pool again instead of reading the cache")
    return p.parse_args(argv)


def default_gold(dataset: str) -> Path:
    d = Path(dataset).resolve()
    return d.with_name(d.name + ".gold.jsonl")


@cli_errors("newstag-review")
def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        import fastapi  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError:
        raise NewstagError("newstag-review needs the review extra; pip install 'newstag[review]'") from None
    from inference.serve import ServerThread, note_if_exposed

    from .reviewer.app import create_review_app
    from .reviewer.session import ReviewSession

    if not 0 < args.near <= 1:
        raise NewstagError(f"--near {args.near} must be above 0 and at most 1, e.g. 0.3")
    if not 0 <= args.port <= 65535:
        raise NewstagError(f"--port {args.port} is not a port; use 1-65535 (or 0 for any free one)")
    tagger, model_id = None, None
    if args.model:
        from inference import model_folder
        from inference.tagger import Tagger

        tagger = Tagger.from_pretrained(args.model, device=args.device)
        model_id = model_folder.model_id(args.model)
    gold = Path(args.gold) if args.gold else default_gold(args.dataset)
    session = ReviewSession.open(args.dataset, gold, tagger, model_id, args.annotator or _login(), args.near,
                                 args.seed, cache=not args.no_cache)
    if session.gold.repaired:
        print(f"newstag-review: note: removed a last line of {gold} cut short by a crash ({session.gold.repaired} "
              "bytes, never acknowledged)", file=sys.stderr)
    note_if_exposed("newstag-review", args.host, "the review page")
    app = create_review_app(session, host=args.host)
    try:
        server = ServerThread(app, host=args.host, port=args.port)
    except OSError as err:
        raise NewstagError(f"cannot listen on {args.host}:{args.port} ({err.strerror}); pick another --port") from None
    p = session.progress()
    with server as url:
        print(f"newstag-review: {p['reviewed']} of {p['pool']} unlabeled articles reviewed; decisions go to {gold}",
              flush=True)
        print(f"newstag-review: open {url}/ (Ctrl-C stops; every accepted decision is already saved)", flush=True)
        server.thread.join()
    return 0


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "analyst"


if __name__ == "__main__":
    sys.exit(main())
