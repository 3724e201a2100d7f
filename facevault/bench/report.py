"""Markdown table and DET plot for `facevault bench accuracy --report DIR`.

Role: turn an AccuracyReport into `accuracy.md` (baseline and settings tables) and
`accuracy-det.png` (plain-cosine DET curve with each IronMask setting as a point).

May import: stdlib, numpy, matplotlib (Agg backend, lazily), facevault.bench.accuracy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from facevault.bench.accuracy import AccuracyReport

__all__ = ["markdown", "det_plot", "write_report"]


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{100 * x:.2f}%"


def markdown(r: AccuracyReport, title: str = "Accuracy") -> str:
    b = r.baseline
    out = [f"### {title}", "",
           f"{r.trials}; {r.enrollments} enrollments (K={r.enroll_k}, fusion {r.fusion}), "
           f"probes M={r.probe_m} ({r.probe_mode}); {r.images} images, {len(r.no_face)} without a detected face.",
           "",
           "| plain cosine | accuracy | TAR@FAR 1e-3 | 1e-4 | 1e-5 | 0 | genuine | impostor |",
           "|---|---|---|---|---|---|---|---|",
           f"| baseline | {_pct(b['accuracy'])} | " + " | ".join(_pct(b['tar_at_far'][k]) for k in ("1e-3", "1e-4", "1e-5", "0"))
           + f" | {b['genuine_trials']} | {b['impostor_trials']} |",
           "",
           "| setting | dim | a | expander | list | bits | TAR | FAR (accepts/trials) | FAR 95% upper | plain TAR at that FAR | TAR / plain |",
           "|---|---|---|---|---|---|---|---|---|---|---|"]
    for s in r.settings:
        ratio = s.tar / s.plain_tar_at_same_far if s.plain_tar_at_same_far > 0 else float("nan")
        out.append(f"| {s.name} | {s.dim} | {s.alpha} | {s.expander or '-'} | {s.candidates} | {s.bits:.1f} | "
                   f"{_pct(s.tar)} ({s.genuine_accepts}/{s.genuine_trials}) | {s.far:.2e} "
                   f"({s.impostor_accepts}/{s.impostor_trials}) | {s.far_upper_95:.1e} | "
                   f"{_pct(s.plain_tar_at_same_far)} | {ratio:.3f} |")
    return "\n".join(out) + "\n"


def det_plot(r: AccuracyReport, path: Path, title: str = "") -> None:
    """DET: false non-match rate against false match rate (log axes); plain cosine as a curve,
    IronMask settings as points (FAR 0 drawn at the 95% upper bound, hollow)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    gen, imp = np.sort(r.genuine_scores), np.sort(r.impostor_scores)
    thr = np.quantile(imp, 1 - np.logspace(-7, 0, 300).clip(0, 1)) if imp.size else np.array([])
    fmr = 1 - np.searchsorted(imp, thr, side="right") / max(1, imp.size)
    fnmr = np.searchsorted(gen, thr, side="right") / max(1, gen.size)
    fig, ax = plt.subplots(figsize=(6, 4.2), dpi=90)
    keep = fmr > 0
    ax.plot(fmr[keep], np.maximum(fnmr[keep], 1e-4), color="black", label="plain cosine")
    for s in r.settings:
        x = s.far if s.far > 0 else s.far_upper_95
        ax.scatter([x], [max(1 - s.tar, 1e-4)], marker="o", facecolors="none" if s.far == 0 else None,
                   label=f"{s.name} ({s.bits:.0f} bits)")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("false accept rate")
    ax.set_ylabel("false reject rate (1 - TAR)")
    ax.set_title(title or r.trials, fontsize=9)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="upper right")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def write_report(r: AccuracyReport, directory: Path, stem: str = "accuracy", title: str = "Accuracy") -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    md, png = directory / f"{stem}.md", directory / f"{stem}-det.png"
    md.write_text(markdown(r, title) + f"\n![DET]({png.name})\n")
    det_plot(r, png, title)
    return [md, png]
