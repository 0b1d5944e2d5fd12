"""What the tests share: where things are, and the hand-solved tiny model."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BENCHMARKS = REPO.parent / "shared" / "benchmarks"
RARE_EARTHS = REPO / "models" / "rare-earths.json"

# One material, two candidate sites, one demand node of 1500 t/yr whose shortfall costs 1e6/t
# (so leaving demand unmet is never worth it: 1 t unmet costs more than a whole site).
#   texas (US): open 20e6, module 1000 t/yr at 5e6, route to dod 50/t
#   kalg  (AU): open 15e6, module 1000 t/yr at 5e6, route to dod 400/t
TINY = {
    "name": "tiny",
    "materials": [{"id": "ox"}],
    "countries": [{"code": "US", "trusted": True}, {"code": "AU", "trusted": True}],
    "sites": [
        {"id": "texas", "country": "US", "output": "ox", "module_capacity": 1000,
         "max_modules": 3, "open_cost": 20e6, "module_cost": 5e6},
        {"id": "kalg", "country": "AU", "output": "ox", "module_capacity": 1000,
         "max_modules": 3, "open_cost": 15e6, "module_cost": 5e6},
    ],
    "demand": [{"id": "dod", "country": "US", "material": "ox", "demand": 1500,
                "shortfall_penalty": 1e6}],
    "routes": [{"from": "texas", "to": "dod", "unit_cost": 50},
               {"from": "kalg", "to": "dod", "unit_cost": 400}],
}

# No policy. 1500 t/yr needs 2 modules at one site (or 1 + 1 at both):
#   texas alone: 20e6 + 2 x 5e6 + 1500 x 50  = 30,075,000
#   kalg alone:  15e6 + 2 x 5e6 + 1500 x 400 = 25,600,000   <- optimum
#   both, 1 + 1: 35e6 + 2 x 5e6 + 1000 x 50 + 500 x 400 = 45,250,000
TINY_OPTIMUM = 25_600_000.0

# Country share <= 60 %: one site alone holds 100 %, so both open. With a and b modules,
# a <= 0.6 (a + b) and b <= 0.6 (a + b); a = b = 1 holds (50 %) and is the cheapest pair:
#   35e6 + 10e6 + texas 1000 t x 50 + kalg 500 t x 400 = 45,250,000
SHARED_OPTIMUM = 45_250_000.0
