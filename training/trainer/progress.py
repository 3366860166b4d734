"""What training prints: one table row per epoch and a closing summary; a progress bar only on a terminal.

Replaces the ``Trainer``'s own printer (a dict per log line) and progress bar (``loop.make_trainer``).
"""

from __future__ import annotations

import sys
import time

from transformers import TrainerCallback

COLUMNS = ("epoch", "train loss", "val topic micro-F1", "val stance macro-F1", "best so far", "time")
WIDTHS = [len(c) for c in COLUMNS[:-1]] + [7]  # the time as 1m05s or 12m05s


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{secs}s"


class EpochTable(TrainerCallback):
    """One row per epoch: the mean of the training losses logged in it (every ``logging_steps``), the
    validation topic micro-F1 and stance macro-F1, the best validation score so far (their mean, which picks
    the kept epoch; ``*`` marks a new best) and the time since training began.

    Args:
        bar: a progress bar over the optimizer steps on stderr; default: when stderr is a terminal.
    """

    def __init__(self, bar: bool | None = None):
        self.bar_wanted = sys.stderr.isatty() if bar is None else bar
        self.bar = None
        self.losses: list[float] = []
        self.rows: list[dict] = []
        self.start = 0.0

    def _print(self, line: str) -> None:
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)  # clears the bar, prints, draws it again
        else:
            print(line, flush=True)

    def on_train_begin(self, args, state, control, **kwargs):
        if not state.is_world_process_zero:
            return
        self.start = time.monotonic()
        self._print("  ".join(c.rjust(w) for c, w in zip(COLUMNS, WIDTHS)))
        if self.bar_wanted:
            from tqdm.auto import tqdm

            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc="training", unit=" steps", file=sys.stderr,
                            leave=False, dynamic_ncols=True)

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if logs and "loss" in logs:
            self.losses.append(float(logs["loss"]))
            if self.bar is not None:
                self.bar.set_postfix(loss=f"{logs['loss']:.3f}", refresh=False)

    def on_epoch_end(self, args, state, control, **kwargs):
        if args.eval_strategy == "no":  # no validation split: the row has the loss alone
            self._row(state, None)

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        self._row(state, metrics or {})

    def _row(self, state, metrics: dict | None) -> None:
        if not state.is_world_process_zero:
            return
        loss = sum(self.losses) / len(self.losses) if self.losses else None
        self.losses = []
        row = {"epoch": round(state.epoch or 0), "loss": loss, "topic": None, "stance": None, "score": None}
        if metrics:
            row.update(topic=metrics.get("eval_topic_micro_f1"), stance=metrics.get("eval_stance_macro_f1"),
                       score=metrics.get("eval_score"))
        best = max((r["score"] for r in self.rows if r["score"] is not None), default=None)
        new_best = row["score"] is not None and (best is None or row["score"] > best)
        self.rows.append(row)
        best = row["score"] if new_best else best
        cells = [str(row["epoch"]), _num(loss), _num(row["topic"]), _num(row["stance"]),
                 _num(best) + (" *" if new_best else "  "), _duration(time.monotonic() - self.start)]
        self._print("  ".join(c.rjust(w) for c, w in zip(cells, WIDTHS)))

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None
        if not state.is_world_process_zero or not self.rows:
            return
        self._print(summary(self.rows, planned=args.num_train_epochs, stopped_early=state.global_step < state.max_steps,
                            seconds=time.monotonic() - self.start))


def _num(value) -> str:
    return "-" if value is None else f"{value:.3f}"


def summary(rows: list[dict], planned: float, stopped_early: bool, seconds: float) -> str:
    """The closing line: which epoch was kept and its validation scores, and why training ended."""
    scored = [r for r in rows if r["score"] is not None]
    n = rows[-1]["epoch"]
    end = (f"{n} of {planned:g} epochs (early stopping: no better validation score)" if stopped_early
           else f"{n} epochs")
    if not scored:
        return f"newstag-train: trained {end} in {_duration(seconds)} (no validation split: the last epoch is kept)"
    best = max(scored, key=lambda r: r["score"])
    return (f"newstag-train: kept epoch {best['epoch']} (validation topic micro-F1 {best['topic']:.3f}, stance "
            f"macro-F1 {best['stance']:.3f}); trained {end} in {_duration(seconds)}")
