"""Plots the README's curve from `stockade sweep ... --csv`: the annual cost of capping the largest
country's share of NdPr separation capacity, step by step.

    stockade sweep models/rare-earths.json --set policies.country_share.cap=0.42:0.28:0.01 \
        --csv docs/country-share-sweep.csv
    python scripts/plot_sweep.py docs/country-share-sweep.csv docs/country-share-sweep.png
"""

import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

source, target = sys.argv[1], sys.argv[2]
df = pd.read_csv(source)
cap = "policies.country_share.cap"
ok = df[df.status == "optimal"].sort_values(cap, ascending=False)
base = ok.objective.iloc[0]
fig, ax = plt.subplots(figsize=(7, 4))
ax.plot(100 * ok[cap], (ok.objective - base) / 1e6, marker="o")
for _, row in ok.iterrows():
    ax.annotate(
        f"{int(row.open_sites)}",
        (100 * row[cap], (row.objective - base) / 1e6),
        textcoords="offset points",
        xytext=(0, 6),
        ha="center",
        fontsize=7,
    )
bad = df[df.status != "optimal"]
for _, row in bad.iterrows():
    ax.axvline(100 * row[cap], color="grey", linestyle=":")
    ax.annotate(row.status, (100 * row[cap], 0), rotation=90, fontsize=7, color="grey")
ax.invert_xaxis()
ax.set_xlabel("cap on any one country's share of NdPr separation capacity (%)")
ax.set_ylabel("extra expected cost (USD m/yr)")
ax.set_title("rare-earths.json: the price of dispersing NdPr separation\n(labels: sites open)")
ax.grid(alpha=0.3)
fig.tight_layout()
fig.savefig(target, dpi=110)
