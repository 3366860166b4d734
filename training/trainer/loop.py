"""The ``transformers.Trainer`` of newstag: its arguments, its loss (the model's own), its metrics."""

from __future__ import annotations

from pathlib import Path

import torch

from .config import TrainConfig


def bf16_supported() -> bool:
    """bf16 autocast for ``bf16: auto``: GPUs that have it, CPUs with native bf16 (avx512_bf16, AMX)."""
    if torch.cuda.is_available():
        return torch.cuda.is_bf16_supported()
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def make_trainer_class():
    from transformers import PrinterCallback, ProgressCallback, Trainer

    from .progress import EpochTable

    class NewstagTrainer(Trainer):
        """The ``Trainer`` with the model's multi-task loss and, optionally, a learning rate of the heads' own."""

        def __init__(self, *args, pos_weight=None, stance_weight=None, loss_weights=(1.0, 1.0), head_lr=0.0,
                     **kwargs):
            super().__init__(*args, **kwargs)
            for printer in (PrinterCallback, ProgressCallback):  # progress.EpochTable prints instead
                self.remove_callback(printer)
            self.add_callback(EpochTable())
            self.pos_weight, self.stance_weight, self.loss_weights = pos_weight, stance_weight, loss_weights
            self.head_lr = head_lr

        def create_optimizer(self, model=None):
            """The default AdamW, with the heads in their own parameter groups at ``head_lr`` when it is set."""
            if self.optimizer is None and self.head_lr:
                model = self.model if model is None else model
                decay = set(self.get_decay_parameter_names(model))
                groups = []
                for head in (False, True):
                    for decays in (True, False):
                        params = [p for n, p in model.named_parameters() if p.requires_grad
                                  and (n in decay) == decays and n.startswith("encoder.") != head]
                        if params:
                            groups.append({"params": params, "weight_decay": self.args.weight_decay if decays else 0.0,
                                           **({"lr": self.head_lr} if head else {})})
                cls, kwargs = self.get_optimizer_cls_and_kwargs(self.args, model)
                self.optimizer = cls(groups, **kwargs)
            return super().create_optimizer(model)

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            topic_y = inputs.pop("topic_labels")
            stance_y = inputs.pop("stance_labels")
            weight = inputs.pop("sample_weight")
            out = model(**inputs)
            # the model owns its loss; under DDP ``model`` is the wrapper around it
            loss = self.accelerator.unwrap_model(model).loss(out, topic_y, stance_y, weight, self.pos_weight, self.stance_weight, self.loss_weights)
            return (loss, out) if return_outputs else loss

    return NewstagTrainer


def compute_metrics(eval_pred) -> dict:
    from sklearn.metrics import f1_score

    (topic_logits, stance_logits), (topic_y, stance_y) = eval_pred.predictions, eval_pred.label_ids
    topic_pred = (topic_logits >= 0).astype(int)
    topic_f1 = f1_score((topic_y >= 0.5).astype(int), topic_pred, average="micro", zero_division=0)
    stance_f1 = f1_score(stance_y, stance_logits.argmax(-1), average="macro", zero_division=0)
    return {"topic_micro_f1": topic_f1, "stance_macro_f1": stance_f1, "score": (topic_f1 + stance_f1) / 2}


def training_arguments(cfg: TrainConfig, out: Path, has_val: bool, use_bf16: bool):
    """``TrainingArguments`` from the config: evaluation and checkpoints each epoch, the best model kept."""
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(out / "checkpoints"), num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        learning_rate=cfg.learning_rate, per_device_train_batch_size=cfg.batch_size,
        per_device_eval_batch_size=cfg.eval_batch_size, gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        weight_decay=cfg.weight_decay, warmup_steps=cfg.warmup_ratio, lr_scheduler_type="linear",
        eval_strategy="epoch" if has_val else "no", save_strategy="epoch",
        load_best_model_at_end=has_val, metric_for_best_model="score", greater_is_better=True,
        save_total_limit=cfg.save_total_limit, logging_steps=cfg.logging_steps, seed=cfg.seed, data_seed=cfg.seed,
        bf16=use_bf16, use_cpu=not torch.cuda.is_available(), report_to="none", remove_unused_columns=False,
        label_names=["topic_labels", "stance_labels"], length_column_name="n_tokens",
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
        dataloader_num_workers=cfg.dataloader_num_workers, disable_tqdm=True, save_only_model=False,
        ddp_find_unused_parameters=False,  # every weight takes part in every step (the BERT pooler is dropped)
    )
