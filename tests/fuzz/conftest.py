"""Hypothesis profiles for the fuzz tests: "fuzz-ci" (the default, quick) and "fuzz-long"
(HYPOTHESIS_PROFILE=fuzz-long). The long campaign is tests/fuzz/campaign.py."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_SLOW = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
         HealthCheck.large_base_example]
settings.register_profile("fuzz-ci", max_examples=40, deadline=None, database=None,
                          suppress_health_check=_SLOW, derandomize=True)
settings.register_profile("fuzz-long", max_examples=2000, deadline=None,
                          suppress_health_check=_SLOW)
FUZZ = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "fuzz-ci")
                            if os.environ.get("HYPOTHESIS_PROFILE", "").startswith("fuzz")
                            else "fuzz-ci")
