import pytest
import redis
from django.conf import settings
from django.db import transaction

from apps.common.tasks import ping
from config.celery import app


def test_reliable_settings_from_the_start():
    conf = app.conf
    assert conf.task_serializer == "json" and conf.accept_content == ["json"]
    assert conf.task_acks_late is True
    assert conf.task_reject_on_worker_lost is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert conf.broker_url.startswith("redis://")


def test_a_real_worker_runs_a_task(celery_worker_process, celery_queue):
    result = ping.apply_async(queue=celery_queue)
    assert result.get(timeout=60) == "pong"


@pytest.mark.django_db(transaction=True)
def test_enqueued_on_commit_only_when_the_transaction_commits(celery_queue):
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)

    class Rollback(Exception):
        pass

    with pytest.raises(Rollback), transaction.atomic():
        ping.apply_async_on_commit(queue=celery_queue)
        assert broker.llen(celery_queue) == 0  # not before the commit
        raise Rollback
    assert broker.llen(celery_queue) == 0

    with transaction.atomic():
        ping.apply_async_on_commit(queue=celery_queue)
    assert broker.llen(celery_queue) == 1
    broker.delete(celery_queue)
