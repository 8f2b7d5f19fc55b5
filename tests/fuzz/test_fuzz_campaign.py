"""The campaign's CI-quick profile: a few hundred generated and mutated inputs through
evaluate and the CLI in-process, with no finding (the long run: see campaign.py)."""

from __future__ import annotations

import campaign


def test_quick_campaign_finds_nothing():
    result = campaign.run(300, cli_share=0.25, seed=0)
    assert result.count == 300
    assert result.cli_count > 30
    assert result.findings == [], result.report(0)
