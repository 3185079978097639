"""HA/DR drills of the Info Mart load on real PostgreSQL and Kafka (docs/operations.md, "Drills").

- Dagster's own storage is lost: a new, empty instance's sensor resumes from the offsets the Info Mart stores
  with its data; nothing is loaded twice and nothing is skipped.
- A request delivered twice, or a second daemon: both ask for the same run key; a load run that runs twice
  anyway changes nothing the second time.
- The tenant's Info Mart database is lost: the next load creates it and reloads the facts topic from its
  first offset (Kafka retention), to the same facts.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from dagster import DagsterInstance, Definitions, RunRequest, build_sensor_context, materialize

from gim_dagster.assets import infomart as infomart_assets
from gim_dagster.resources import KafkaResource, PostgresResource
from gim_dagster.settings import load_settings

from .conftest import irf_row
from .test_assets import _produce, _settings_file


class Drill:
    """One tenant's load area on the session's services, with Dagster instances to lose and replace."""

    def __init__(self, tmp_path: Path, pg_server_url: str, kafka_bootstrap: str, tenant: str) -> None:
        settings_file = _settings_file(tmp_path, pg_server_url, kafka_bootstrap, tenant)
        self.tenant, self.topic = tenant, f"{tenant}.gsp.facts"
        self.postgres = PostgresResource(settings_file=settings_file)
        self.kafka = KafkaResource(bootstrap_servers=kafka_bootstrap)
        self.resources = {"postgres": self.postgres, "kafka": self.kafka}
        area = infomart_assets.definitions(load_settings(settings_file))
        self.load = next(a for a in area.assets if a.key.to_user_string() == "infomart_load")
        self.sensor = Definitions.merge(area, Definitions(resources=self.resources)).resolve_sensor_def(
            "infomart_load_sensor"
        )

    def requests(self, instance: DagsterInstance) -> list[RunRequest]:
        with build_sensor_context(instance=instance, resources=self.resources) as context:
            return [r for r in self.sensor(context) or [] if isinstance(r, RunRequest)]

    def run_load(self, instance: DagsterInstance) -> dict[str, Any]:
        result = materialize(
            [self.load], partition_key=self.tenant, resources=self.resources, instance=instance
        )
        assert result.success
        meta = result.asset_materializations_for_node("infomart_load")[0].metadata
        return {key: meta[key].value for key in ("rows_inserted", "rows_updated")}

    def fact_rows(self) -> list[tuple[Any, ...]]:
        """INTERACTION_RESOURCE_FACT without its audit keys (a rebuild writes new ones), in id order."""
        with self.postgres.infomart_engine(self.tenant).connect() as conn:
            rows = (
                conn.execute(sa.text("SELECT * FROM interaction_resource_fact ORDER BY 1")).mappings().all()
            )
        return [tuple(v for k, v in r.items() if not k.endswith("audit_key")) for r in rows]

    def facts(self) -> tuple[int, int]:
        """Rows of INTERACTION_RESOURCE_FACT and distinct audit keys that wrote them."""
        with self.postgres.infomart_engine(self.tenant).connect() as conn:
            count, keys = conn.execute(
                sa.text("SELECT count(*), count(DISTINCT update_audit_key) FROM interaction_resource_fact")
            ).one()
        return int(count), int(keys)


@pytest.fixture()
def drill(tmp_path: Path, pg_server_url: str, kafka_bootstrap: str, unique: str) -> Iterator[Drill]:
    drill = Drill(tmp_path, pg_server_url, kafka_bootstrap, f"dr{unique}")
    drill.kafka.ensure_topics([drill.topic])
    yield drill
    drill.postgres.infomart_engine(drill.tenant).dispose()
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "gim_infomart_{drill.tenant}" WITH (FORCE)'))
    admin.dispose()


def test_losing_dagsters_storage_loses_no_data(drill: Drill) -> None:
    lost = DagsterInstance.ephemeral()
    _produce(drill.kafka, drill.topic, [irf_row(i) for i in range(50)])
    assert len(drill.requests(lost)) == 1
    assert drill.run_load(lost)["rows_inserted"] == {"interaction_resource_fact": 50}

    fresh = DagsterInstance.ephemeral()  # Dagster's storage restored empty: no runs, no materializations
    assert drill.requests(fresh) == [], "the Info Mart's offsets say everything is loaded"
    _produce(drill.kafka, drill.topic, [irf_row(i) for i in range(50, 60)])
    (request,) = drill.requests(fresh)
    assert [r.run_key for r in drill.requests(lost)] == [request.run_key], "both instances ask the same"
    assert request.run_key == f"{drill.tenant}:0=50"
    assert drill.run_load(fresh)["rows_inserted"] == {"interaction_resource_fact": 10}
    assert drill.facts()[0] == 60
    assert drill.requests(fresh) == []


def test_a_doubled_load_run_changes_nothing(drill: Drill) -> None:
    instance = DagsterInstance.ephemeral()
    _produce(drill.kafka, drill.topic, [irf_row(i) for i in range(30)])
    first, again = drill.requests(instance), drill.requests(instance)
    assert [r.run_key for r in first] == [r.run_key for r in again], "a re-evaluated tick asks the same run"
    drill.run_load(instance)
    before = drill.facts()
    # The same request launched a second time (a second daemon, or a retry after the first run committed):
    # the offsets committed with the rows leave it nothing to load.
    second = drill.run_load(instance)
    assert not any(second["rows_inserted"].values()) and not any(second["rows_updated"].values())
    assert drill.facts() == before == (30, 1)


def test_a_lost_info_mart_is_rebuilt_from_the_facts_topic_to_the_same_facts(
    drill: Drill, pg_server_url: str
) -> None:
    instance = DagsterInstance.ephemeral()
    _produce(drill.kafka, drill.topic, [irf_row(i) for i in range(40)])
    drill.run_load(instance)
    _produce(drill.kafka, drill.topic, [irf_row(i, talk_duration=99) for i in range(10)])  # updates
    drill.run_load(instance)
    before = drill.fact_rows()

    drill.postgres.infomart_engine(drill.tenant).dispose()
    admin = sa.create_engine(pg_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:  # the database is gone, with its stored offsets
        conn.execute(sa.text(f'DROP DATABASE "gim_infomart_{drill.tenant}" WITH (FORCE)'))
    admin.dispose()

    (request,) = drill.requests(DagsterInstance.ephemeral())
    assert request.partition_key == drill.tenant
    drill.run_load(instance)  # creates and migrates the database, reads the topic from offset 0
    assert drill.fact_rows() == before
    assert drill.requests(instance) == []
