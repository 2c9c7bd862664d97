"""The leaderboard table in the formats people paste it into: Markdown (a README), CSV (a
spreadsheet) and booktabs LaTeX (a paper). All three write the numbers the HTML page shows,
rounded to their uncertainty (:func:`genbench.formatting.rounded`); summary.json keeps full
precision."""

from __future__ import annotations

import csv
import io

FORMATS = ("html", "md", "csv", "latex")
EXTENSIONS = {"md": "md", "csv": "csv", "latex": "tex"}


def _arrow(direction) -> str:
    return {True: "↑", False: "↓"}.get(direction, "")


def _rank(row) -> str:
    r = row.get("rank")
    if not r:
        return ""
    return str(r["lo"]) if r["lo"] == r["hi"] else f"{r['lo']}–{r['hi']}"


def to_markdown(sections: list[dict]) -> str:
    out = []
    for s in sections:
        t = s["table"]
        ranked = t.get("significance") is not None
        header = ["model"] + (["rank"] if ranked else []) + [f"{c['name']} {_arrow(c['direction'])}".strip()
                                                             for c in t["columns"]]
        out += [f"### {s['dataset']}", "", "| " + " | ".join(header) + " |",
                "|" + ":---|" + "---:|" * (len(header) - 1)]
        for row in t["rows"]:
            cells = []
            for c in t["columns"]:
                cell = row["cells"].get(c["name"])
                text = cell["text"] if cell else "–"
                cells.append(f"**{text}**" if cell and cell["best"] else text)
            label = row["label"] + (" (ceiling)" if row["real"] else "")
            out.append("| " + " | ".join([label.replace("|", "\\|")] + ([_rank(row)] if ranked else []) + cells) + " |")
        out.append("")
    return "\n".join(out)


def to_csv(sections: list[dict]) -> str:
    """One line per (dataset, model): each metric as a rounded value and a ± column."""
    columns = list(dict.fromkeys(c["name"] for s in sections for c in s["table"]["columns"]))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["dataset", "model", "rank_best", "rank_worst"] + [x for c in columns for x in (c, f"{c}_std")])
    for s in sections:
        for row in s["table"]["rows"]:
            r = row.get("rank") or {}
            line = [s["dataset"], row["label"], r.get("lo", ""), r.get("hi", "")]
            for c in columns:
                cell = row["cells"].get(c)
                line += [cell["mean_text"] if cell and cell["mean"] is not None else "",
                         (cell["std_text"] or "") if cell else ""]
            w.writerow(line)
    return buf.getvalue()


_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                  "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_ESCAPES.get(ch, ch) for ch in str(text))


def _latex_number(text: str) -> str:
    """``1.2e-04`` → ``1.2\\text{e-}04`` would need amsmath: write ``1.2{\\times}10^{-4}`` in math."""
    if text == "∞":
        return r"$\infty$"
    if "e" in text and text not in ("nan", "inf", "-inf"):
        mant, exp = text.split("e")
        return f"${mant}\\times10^{{{int(exp)}}}$"
    if text.startswith("-") and text[1:2].isdigit():
        return "$-$" + text[1:]  # a minus sign, not a hyphen
    return text.replace("–", "--")


def to_latex(sections: list[dict], *, caption: str = "") -> str:
    """One booktabs ``table`` per dataset: each metric is a value column and a ``±`` column
    (``r@{\\,}l``, the ± inside the second), the best model's value bold. Needs ``\\usepackage{booktabs}``."""
    out = ["% genbench leaderboard; needs \\usepackage{booktabs}"]
    for s in sections:
        t = s["table"]
        ranked = t.get("significance") is not None
        spec = "l" + ("c" if ranked else "") + "".join(r"r@{\,}l" for _ in t["columns"])
        head = ["Model"] + (["Rank"] if ranked else [])
        for c in t["columns"]:
            arrow = {True: r" $\uparrow$", False: r" $\downarrow$"}.get(c["direction"], "")
            head.append(f"\\multicolumn{{2}}{{c}}{{{latex_escape(c['name'].upper() if len(c['name']) <= 4 else c['name'])}{arrow}}}")
        cap = caption or f"{s['dataset']}"
        out += [r"\begin{table}[t]", r"\centering",
                f"\\caption{{{latex_escape(cap)}: mean $\\pm$ std over seeds (one seed: the metric's own std).}}",
                f"\\begin{{tabular}}{{{spec}}}", r"\toprule", " & ".join(head) + r" \\", r"\midrule"]
        for row in t["rows"]:
            line = [latex_escape(row["label"]) + (" (ceiling)" if row["real"] else "")]
            if ranked:
                line.append(_rank(row).replace("–", "--"))
            for c in t["columns"]:
                cell = row["cells"].get(c["name"])
                if not cell or cell["mean"] is None:
                    line += ["--", ""]
                    continue
                m = _latex_number(cell["mean_text"])
                line += [f"\\textbf{{{m}}}" if cell["best"] else m,
                         "$\\pm$\\," + _latex_number(cell["std_text"]) if cell["std_text"] else ""]
            out.append(" & ".join(line) + r" \\")
        out += [r"\bottomrule", r"\end{tabular}", f"\\label{{tab:{''.join(ch for ch in s['dataset'] if ch.isalnum() or ch in '-.:')}}}", r"\end{table}", ""]
    return "\n".join(out)
