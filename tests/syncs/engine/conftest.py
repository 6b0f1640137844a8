import os

from hypothesis import HealthCheck, settings

# Bounded for CI: the whole engine suite stays within seconds. HYPOTHESIS_PROFILE=thorough digs deeper.
settings.register_profile(
    "syncline", max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("thorough", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "syncline"))
