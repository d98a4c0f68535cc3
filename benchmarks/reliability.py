"""Reliability under hostile conditions: kill -9 during training, two runs on one workdir,
damaged checkpoints, and a loopback load test of the feature server with bad requests.

  python benchmarks/reliability.py [--kills 2] [--families supervised,fixmatch,moco,...]
      [--steps 300] [--every 100] [--seed 0] [--skip_load]

Training cases (one per method family, each a ``configs/<method>/digits.py`` run shortened
to ``--steps`` steps with a checkpoint every ``--every``):

* ``uninterrupted``: the reference run; its ``weights_digest`` (``metrics.json``).
* ``kill -9``: ``--kills`` runs, each killed with SIGKILL at a random moment (uniform
  over 10-80% of the reference run's wall time: before, during or after a checkpoint), then
  started again with the same command until it finishes. It survives when the final
  ``weights_digest`` equals the reference's.
* ``damaged checkpoint`` (first family only): the newest checkpoint of a finished run is
  truncated and the same command run again; it must skip that checkpoint (with a
  warning), resume from the one before and end with the uninterrupted run's weights.
* ``two runs, one workdir`` (first family only): a second ``tfless-train`` on a workdir a
  live run holds must exit 2 at once, naming the holder.

The load test (``run_load_test`` in ``benchmarks/serving_load.py``) serves an exported
encoder on 127.0.0.1 to concurrent clients with malformed, oversized and stalled
requests mixed in, and reports requests served, errors by kind, latency and RSS.

Writes ``benchmarks/results/reliability.{json,md}``: a table of case -> result. Bounded
in count and time: the defaults finish in about 10-15 minutes on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, "results")
FAMILIES = {
    "supervised": "configs/supervised/digits.py",
    "semi (FixMatch)": "configs/fixmatch/digits.py",
    "contrastive (MoCo)": "configs/moco/digits.py",
    "pretext (rotation)": "configs/rotation/digits.py",
    "clustering (DeepCluster)": "configs/deepcluster/digits.py",
}
SHORT = {
    "supervised": "supervised",
    "fixmatch": "semi (FixMatch)",
    "moco": "contrastive (MoCo)",
    "rotation": "pretext (rotation)",
    "deepcluster": "clustering (DeepCluster)",
}


def _command(config: str, workdir: str, steps: int, every: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "tfless.cli.train",
        f"--config={os.path.join(ROOT, config)}",
        f"--workdir={workdir}",
        f"--config.train.steps={steps}",
        f"--config.train.eval_every={every}",
        "--config.train.tensorboard=False",
        "--config.train.verbose=0",
    ]


def _env() -> dict:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", PYTHONUNBUFFERED="1")
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run(cmd, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=_env(), capture_output=True, text=True, timeout=timeout)


def _digest(workdir: str) -> str | None:
    path = os.path.join(workdir, "metrics.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f).get("weights_digest")


def _killed_run(cmd, workdir: str, delay: float, max_restarts: int = 5) -> dict:
    """Starts ``cmd``, SIGKILLs it after ``delay`` s, then restarts it until it finishes."""
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        proc.wait(timeout=delay)
        killed = False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        killed = True
    restarts, errors = 0, []
    while _digest(workdir) is None and restarts < max_restarts:
        restarts += 1
        done = _run(cmd)
        if done.returncode != 0:
            errors.append(done.stderr.strip().splitlines()[-1:] or [f"exit {done.returncode}"])
    return {"killed": killed, "delay_s": round(delay, 1), "restarts": restarts, "errors": errors}


def family_cases(name: str, config: str, args, rng: random.Random, tmp: str) -> list[dict]:
    """The reference run and ``args.kills`` kill -9 runs of one family."""
    ref_dir = os.path.join(tmp, f"{name.split()[0]}-ref")
    t0 = time.perf_counter()
    ref = _run(_command(config, ref_dir, args.steps, args.every))
    wall = time.perf_counter() - t0
    reference = _digest(ref_dir)
    rows = [
        {
            "family": name,
            "case": "uninterrupted",
            "result": f"digest {reference}" if reference else f"FAILED: {ref.stderr[-300:]}",
            "ok": reference is not None,
            "seconds": round(wall, 1),
        }
    ]
    for k in range(args.kills):
        workdir = os.path.join(tmp, f"{name.split()[0]}-kill{k}")
        delay = rng.uniform(0.1 * wall, 0.8 * wall)
        t0 = time.perf_counter()
        info = _killed_run(_command(config, workdir, args.steps, args.every), workdir, delay)
        digest = _digest(workdir)
        same = digest is not None and digest == reference
        what = "killed" if info["killed"] else "finished before the kill"
        rows.append(
            {
                "family": name,
                "case": f"kill -9 at {info['delay_s']} s",
                "result": f"{what}, {info['restarts']} restart(s), digest {digest}"
                + ("" if same else f" != {reference} {info['errors']}"),
                "ok": same,
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
    return rows


def damaged_checkpoint_case(config: str, args, tmp: str, reference: str | None) -> dict:
    """Truncates the newest checkpoint of a finished run and runs the same command again:
    it must skip that checkpoint, resume from the one before, and end with ``reference``
    (the uninterrupted run's digest)."""
    workdir = os.path.join(tmp, "damaged")
    cmd = _command(config, workdir, args.steps, args.every)
    _run(cmd)
    newest = sorted(
        glob.glob(os.path.join(workdir, "checkpoints", "ckpt-*.index")),
        key=lambda p: int(p.rsplit("-", 1)[1].split(".")[0]),
    )
    if not newest:
        return {"case": "damaged newest checkpoint", "result": "no checkpoint", "ok": False}
    for path in glob.glob(newest[-1].replace(".index", ".data-*")):
        with open(path, "r+b") as f:
            f.truncate(max(1, os.path.getsize(path) // 3))
    os.remove(os.path.join(workdir, "metrics.json"))
    done = _run(cmd)
    with open(os.path.join(workdir, "manifest.json")) as f:
        resumed = json.load(f).get("resumed_from_epoch")
    digest = _digest(workdir)
    said = [ln.strip()[:120] for ln in done.stderr.splitlines() if "skip" in ln.lower()][:1]
    ok = done.returncode == 0 and resumed not in (None, 0) and digest == reference
    return {
        "case": "damaged newest checkpoint",
        "result": f"exit {done.returncode}, resumed from epoch {resumed}, digest {digest}"
        f"{'' if digest == reference else f' != {reference}'}; {said}",
        "ok": ok,
    }


def workdir_lock_case(config: str, args, tmp: str) -> dict:
    """A second run on a workdir held by a live run must exit 2 at once."""
    workdir = os.path.join(tmp, "locked")
    cmd = _command(config, workdir, args.steps, args.every)
    first = subprocess.Popen(cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.time() + 120
        while not os.path.exists(os.path.join(workdir, "manifest.json")):
            if time.time() > deadline or first.poll() is not None:
                return {"case": "two runs, one workdir", "result": "first run ended", "ok": False}
            time.sleep(0.5)
        t0 = time.perf_counter()
        second = _run(cmd, timeout=120)
        took = time.perf_counter() - t0
        line = (second.stderr.strip().splitlines() or [""])[-1]
        ok = second.returncode == 2 and str(first.pid) in line
        return {
            "case": "two runs, one workdir",
            "result": f"second exit {second.returncode} after {took:.1f} s: {line[:160]}",
            "ok": ok,
        }
    finally:
        first.kill()
        first.wait()


def load_case(tmp: str) -> list[dict]:
    """The loopback load test of the feature server (see ``serving_load.run_load_test``)."""
    sys.path.insert(0, HERE)
    from serving_load import run_load_test

    from tfless.backbones import build_backbone
    from tfless.export import export_encoder

    encoder = build_backbone("convnet", (16, 16, 1))
    root = os.path.join(tmp, "export")
    export_encoder(encoder, root, "encoder")
    r = run_load_test(os.path.join(root, "encoder"))
    lim = r["limits"]
    rows = [
        (
            "requests served",
            f"{r['requests_served']} of {r['requests_sent']} sent by "
            f"{r['clients']} clients; unexpected answers {r['unexpected']}",
            r["unexpected"] == 0,
        ),
        ("bad requests", json.dumps(r["errors_by_kind"]), r["unexpected"] == 0),
        (
            "latency of valid requests",
            f"p50 {r['latency_ms']['p50']:.1f} ms, p99 {r['latency_ms']['p99']:.1f} ms",
            True,
        ),
        (
            "server RSS",
            f"{r['rss_mb']['before']} MB before, {r['rss_mb']['after']} MB after, "
            f"{r['rss_mb']['peak']} MB peak",
            True,
        ),
        (
            "oversize bodies",
            f"{lim['oversize_rejected_413']} of {lim['oversize_sent']} got 413",
            lim["oversize_rejected_413"] == lim["oversize_sent"],
        ),
        (
            "stalled bodies",
            f"{lim['stalled_closed']} of {lim['stalled_opened']} closed within "
            f"{lim['stalled_close_seconds_max']} s (read timeout {lim['read_timeout_seconds']} s)",
            lim["stalled_closed"] == lim["stalled_opened"],
        ),
        (
            "burst beyond the in-flight limit",
            f"{lim['burst_served']} served, "
            f"{lim['burst_busy_503']} got 503, other {lim['burst_other']}",
            not lim["burst_other"],
        ),
    ]
    out = [
        {"family": "server", "case": f"load test: {c}", "result": t, "ok": bool(ok)}
        for c, t, ok in rows
    ]
    out.append(
        {
            "family": "server",
            "case": "load test: all limits held",
            "result": f"{r['seconds']} s",
            "ok": bool(r["ok"]),
        }
    )
    return out


def write(rows: list[dict], args) -> None:
    os.makedirs(RESULTS, exist_ok=True)
    meta = {"args": vars(args), "python": platform.python_version(), "date": time.ctime()}
    with open(os.path.join(RESULTS, "reliability.json"), "w") as f:
        json.dump({"meta": meta, "rows": rows}, f, indent=1)
    lines = [
        "# Reliability",
        "",
        f"`python benchmarks/reliability.py --kills {args.kills} --steps {args.steps} "
        f"--every {args.every}` ({meta['date']}).",
        "",
        "| family | case | result | ok | seconds |",
        "|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.get('family', '')} | {r['case']} | {r['result']} | "
            f"{'yes' if r['ok'] else 'NO'} | {r.get('seconds', '')} |"
        )
    with open(os.path.join(RESULTS, "reliability.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=2, help="kill -9 runs per family")
    parser.add_argument(
        "--families",
        default=",".join(SHORT),
        help=f"comma-separated subset of {','.join(SHORT)}",
    )
    parser.add_argument("--steps", type=int, default=300, help="training steps per run")
    parser.add_argument("--every", type=int, default=100, help="steps between checkpoints")
    parser.add_argument("--seed", type=int, default=0, help="seed of the kill moments")
    parser.add_argument("--skip_load", action="store_true", help="skip the server load test")
    args = parser.parse_args(argv)
    chosen = [f.strip() for f in args.families.split(",") if f.strip()]
    unknown = [f for f in chosen if f not in SHORT]
    if unknown:
        parser.error(f"unknown --families {unknown}; expected some of {list(SHORT)}")
    if args.steps % args.every:
        parser.error(f"--steps={args.steps} must be a multiple of --every={args.every}")
    rng = random.Random(args.seed)
    tmp = tempfile.mkdtemp(prefix="tfless-reliability-")
    rows: list[dict] = []
    try:
        for short in chosen:
            rows += family_cases(SHORT[short], FAMILIES[SHORT[short]], args, rng, tmp)
        first = FAMILIES[SHORT[chosen[0]]]
        reference = rows[0]["result"].removeprefix("digest ")
        rows.append(workdir_lock_case(first, args, tmp))
        rows.append(damaged_checkpoint_case(first, args, tmp, reference))
        if not args.skip_load:
            rows += load_case(tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    write(rows, args)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
