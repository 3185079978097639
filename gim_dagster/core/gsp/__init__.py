"""GSP: the stream processor that turns raw contact-centre events into Info Mart facts (Dagster-free).

``Processor(state, config, resolver).process(records, now_ms)`` applies one micro-batch to a ``GspState``;
``run_microbatch`` does one whole micro-batch against Kafka and S3. See docs/gsp.md.
"""

from gim_dagster.core.gsp.context import GspConfig
from gim_dagster.core.gsp.keys import KeyResolver, date_time_key, fact_id, irf_id
from gim_dagster.core.gsp.microbatch import CheckpointStore, MicrobatchResult, Pointer, run_microbatch
from gim_dagster.core.gsp.processor import BatchOutput, DeadLetter, Processor
from gim_dagster.core.gsp.state import GspState

__all__ = [
    "BatchOutput",
    "CheckpointStore",
    "DeadLetter",
    "GspConfig",
    "GspState",
    "KeyResolver",
    "MicrobatchResult",
    "Pointer",
    "Processor",
    "date_time_key",
    "fact_id",
    "irf_id",
    "run_microbatch",
]
