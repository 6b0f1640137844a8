from apps.common.health import liveness, readiness


def healthz(request):
    """Liveness: the app answers and its database does. Usually answered by HealthCheckMiddleware."""
    return liveness()


def readyz(request):
    """Readiness: database, migrations, broker, cache and a recent worker heartbeat."""
    return readiness()
