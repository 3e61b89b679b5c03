"""The training commands of ``agentrm-bench``: ``collect expert``, ``collect mcts``, ``train policy``,
``train rm``. Each writes one output folder with a manifest and resumes when rerun; see the modules
for what each file holds. Heavy imports (torch, transformers, peft) happen only when a command runs.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .. import tasks as task_table
from .common import non_negative_int, positive_int


def add_commands(sub: Any) -> None:
    """Add ``collect`` (expert, mcts) and ``train`` (policy, rm) to the CLI's subcommands."""
    p = sub.add_parser(
        "collect",
        help="collect training data from non-test instances: expert trajectories, MCTS-labelled states",
    )
    collect_sub = p.add_subparsers(title="collect commands", metavar="WHAT")

    q = collect_sub.add_parser(
        "expert",
        help="the tasks' experts on their training pools, as chat-format SFT data (sft.jsonl)",
        description="Play each task's expert on its non-test pool (BabyAI: train seeds disjoint from "
        "AgentBoard's; ScienceWorld: ETO dev variations; ALFWorld: valid_seen games; WebShop: dev goals) and "
        "write one prompt-completion sample per step to OUT/sft.jsonl (loadable by datasets). One line per "
        "instance goes to OUT/episodes.jsonl as it finishes: rerun the same command to resume.",
    )
    q.add_argument("--tasks", required=True, help="comma-separated task names (e.g. babyai)")
    q.add_argument("--split", help="the pool to play (default: each task's training pool; test splits are refused)")
    q.add_argument("--out", type=Path, required=True, help="output folder")
    _add_range(q)
    q.add_argument(
        "--history",
        type=non_negative_int,
        default=_history(),
        help="steps of history in a prompt (default: %(default)s)",
    )
    q.add_argument("--no-progress", action="store_true")
    q.set_defaults(handler=_collect_expert)

    q = collect_sub.add_parser(
        "mcts",
        help="MCTS over environment snapshots with a policy; values of partial trajectories",
        description="Search each instance of a non-test pool with MCTS: the policy (--model) samples "
        "--expansions candidate actions at a node, each new child is rolled out to the end, and every node "
        "keeps the mean return of the rollouts through it. Writes OUT/trees/<task>-<index>.json, the flat "
        "table OUT/values.jsonl (partial trajectory, value) and OUT/outcomes.jsonl (rollouts with outcomes). "
        "Rerun the same command to resume.",
    )
    q.add_argument("--model", required=True, help="the policy: default | hf:PATH (an adapter folder too) | openai:URL")
    q.add_argument("--tasks", required=True)
    q.add_argument("--split", help="default: each task's training pool")
    q.add_argument("--out", type=Path, required=True)
    _add_range(q)
    q.add_argument("--simulations", type=positive_int, default=8, help="simulations per instance (default: 8)")
    q.add_argument("--expansions", type=positive_int, default=3, help="actions sampled per expansion (default: 3)")
    q.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default: 1.0)")
    q.add_argument("--exploration", type=float, default=1.0, help="UCT exploration constant (default: 1.0)")
    q.add_argument("--return", dest="return_kind", choices=["success", "progress"], default="success")
    q.add_argument("--max-tokens", type=positive_int, default=48, help="tokens per reply (default: 48)")
    q.add_argument("--history", type=non_negative_int, default=_history())
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--executor", choices=["local", "ray"], default="local")
    q.add_argument("--ray-address", metavar="ADDR")
    q.add_argument("--no-progress", action="store_true")
    q.set_defaults(handler=_collect_mcts)

    p = sub.add_parser("train", help="fine-tune a policy (SFT) or train a reward model (explicit / implicit)")
    train_sub = p.add_subparsers(title="train commands", metavar="WHAT")
    q = train_sub.add_parser(
        "policy",
        help="supervised fine-tuning on collect-expert data (LoRA by default); --model hf:OUT runs it",
        description="Fine-tune --base on OUT-of-collect-expert samples, loss on the replies only. Writes a "
        "LoRA adapter (or, with --lora-r 0, a full model) into --out; run it with --model hf:OUT and the "
        "prompt settings printed at the end. Resumes from OUT/checkpoint when rerun.",
    )
    q.add_argument("--data", type=Path, required=True, help="a collect-expert folder or its sft.jsonl")
    q.add_argument("--out", type=Path, required=True)
    q.add_argument("--base", default="default", help="model to start from: default | hf:PATH (default: default)")
    _add_schedule(q, epochs=2.0, batch=4, lr=2e-4)
    q.set_defaults(handler=_train_policy)

    q = train_sub.add_parser(
        "rm",
        help="train a reward model: explicit (value head, MSE on MCTS values) or implicit (log-ratio ORM)",
        description="--kind explicit: a value head on --base regressed on collect-mcts values.jsonl, in "
        "AgentRM's input template; load it with --rm explicit:OUT. --kind implicit: beta*log(pi/pi_ref) "
        "trained with cross-entropy on the outcomes of collect-mcts rollouts, pi starting from --policy; "
        "load it with --rm implicit:hf:OUT,hf:POLICY. Both report held-out accuracy in OUT/manifest.json.",
    )
    q.add_argument("--kind", choices=["explicit", "implicit"], required=True)
    q.add_argument("--data", type=Path, required=True, help="a collect-mcts folder")
    q.add_argument("--out", type=Path, required=True)
    q.add_argument("--base", default="default", help="explicit: the backbone (default: default)")
    q.add_argument("--policy", help="implicit: the fine-tuned policy, hf:PATH (pi_ref; pi starts from it)")
    q.add_argument("--beta", type=float, default=0.05, help="implicit: beta of the log-ratio (default: 0.05)")
    q.add_argument("--template", choices=["agentrm", "own"], default="agentrm", help="explicit: input template")
    q.add_argument("--holdout", type=float, default=0.2, help="fraction of instances held out (default: 0.2)")
    _add_schedule(q, epochs=2.0, batch=4, lr=1e-4)
    q.set_defaults(handler=_train_rm)


def _history() -> int:
    from ..training.chat_format import DEFAULT_HISTORY

    return DEFAULT_HISTORY


def _add_range(p: argparse.ArgumentParser) -> None:
    p.add_argument("--limit", type=positive_int, help="only N instances of each task")
    p.add_argument("--skip", type=non_negative_int, default=0, help="start at instance K (default: 0)")
    p.add_argument("--max-turns", type=positive_int, help="turn budget instead of each task's own")


def _add_schedule(p: argparse.ArgumentParser, *, epochs: float, batch: int, lr: float) -> None:
    g = p.add_argument_group("training")
    g.add_argument("--epochs", type=float, default=epochs, help=f"passes over the data (default: {epochs})")
    g.add_argument("--batch-size", type=positive_int, default=batch, help=f"examples per batch (default: {batch})")
    g.add_argument("--grad-accum", type=positive_int, default=1, help="batches per optimizer step (default: 1)")
    g.add_argument("--lr", type=float, default=lr, help=f"peak learning rate (default: {lr})")
    g.add_argument("--lora-r", type=int, default=16, help="LoRA rank; 0 trains every weight (default: 16)")
    g.add_argument("--max-length", type=positive_int, default=1024, help="longest example in tokens (default: 1024)")
    g.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto", help="auto: a GPU if there is one")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--save-every", type=positive_int, default=50, help="optimizer steps between checkpoints")
    g.add_argument("--no-progress", action="store_true")


def _schedule(args: argparse.Namespace) -> Any:
    from ..training.loop import Schedule

    return Schedule(
        epochs=args.epochs,
        batch_size=args.batch_size,
        grad_accum=args.grad_accum,
        lr=args.lr,
        seed=args.seed,
        save_every=args.save_every,
    )


def _names(selection: str) -> list[str]:
    return [spec.name for spec in task_table.select(selection)]


def _print(outputs: dict[str, Any], keys: tuple[str, ...]) -> None:
    shown = {k: outputs[k] for k in keys if k in outputs}
    print(json.dumps(shown, indent=2))


def _collect_expert(args: argparse.Namespace) -> int:
    from ..training.collect_expert import collect

    outputs = collect(
        _names(args.tasks),
        args.out,
        split=args.split,
        limit=args.limit,
        skip=args.skip,
        max_turns=args.max_turns,
        history=args.history,
        show_progress=not args.no_progress,
    )
    _print(outputs, ("episodes", "successful", "skipped_like_test", "samples"))
    print(f"SFT data: {args.out / 'sft.jsonl'}   next: agentrm-bench train policy --data {args.out} --out OUT")
    return 0


def _collect_mcts(args: argparse.Namespace) -> int:
    from ..training.collect_mcts import collect
    from ..training.mcts import Settings

    settings = Settings(
        simulations=args.simulations,
        expansions=args.expansions,
        temperature=args.temperature,
        exploration=args.exploration,
        return_kind=args.return_kind,
        max_tokens=args.max_tokens,
    )
    if args.ray_address and args.executor != "ray":
        from ..training.artifacts import TrainingError

        raise TrainingError("--ray-address is for --executor ray")
    outputs = collect(
        args.model,
        _names(args.tasks),
        args.out,
        split=args.split,
        limit=args.limit,
        skip=args.skip,
        settings=settings,
        history=args.history,
        max_turns=args.max_turns,
        seed=args.seed,
        executor=args.executor,
        ray_address=args.ray_address,
        show_progress=not args.no_progress,
    )
    _print(outputs, ("instances", "nodes", "value_rows", "outcome_rows", "outcome_success_rate", "nodes_per_s"))
    return 0


def _train_policy(args: argparse.Namespace) -> int:
    from ..training.sft import train_policy

    outputs = train_policy(
        args.data,
        args.out,
        base=args.base,
        schedule=_schedule(args),
        lora_r=args.lora_r,
        max_length=args.max_length,
        device=args.device,
        show_progress=not args.no_progress,
    )
    _print(outputs, ("model", "trainable", "dropped_too_long", "device"))
    training = outputs["training"]
    print(
        f"trained: {training['examples']} examples, {training['examples_per_s']} examples/s, "
        f"loss {training['loss_first']} -> {training['loss_last']}"
    )
    policy_args = " ".join(f"--policy-arg {k}={json.dumps(v)}" for k, v in outputs["policy_args"].items())
    print(f"run it: agentrm-bench run --policy greedy --model hf:{args.out} {policy_args} --tasks babyai")
    return 0


def _train_rm(args: argparse.Namespace) -> int:
    if args.kind == "explicit":
        from ..training.rm_explicit import train_explicit

        outputs = train_explicit(
            args.data,
            args.out,
            base=args.base,
            schedule=_schedule(args),
            lora_r=args.lora_r,
            template=args.template,
            holdout=args.holdout,
            max_length=args.max_length,
            device=args.device,
            show_progress=not args.no_progress,
        )
    else:
        from ..training.artifacts import TrainingError
        from ..training.rm_implicit import train_implicit

        if not args.policy:
            raise TrainingError("--kind implicit needs --policy hf:PATH (the fine-tuned policy)")
        outputs = train_implicit(
            args.data,
            args.out,
            policy=args.policy,
            schedule=_schedule(args),
            lora_r=args.lora_r,
            beta=args.beta,
            holdout=args.holdout,
            max_length=args.max_length,
            device=args.device,
            show_progress=not args.no_progress,
        )
    _print(outputs, ("model", "train_rows", "heldout_rows", "heldout", "rm_spec", "rm_options"))
    return 0
