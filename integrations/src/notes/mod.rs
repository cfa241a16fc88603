//! File notes to XPLAN (PRODUCT.md §4): a relay publishes the survey and plan events of the log
//! to a bus (RabbitMQ, or an in-process queue for the embedded default), and a worker turns each
//! into exactly one XPLAN file note — at-least-once delivery, deduplicated on the source event.
//!
//! Notes of different households are made in parallel, those of one household in log order:
//! every message goes to one of [`PARTITIONS`] queues chosen by its household, and each queue
//! is worked one message at a time by one consumer at a time (of however many instances run).

mod amqp;
mod bus;
mod message;
mod relay;
mod worker;

pub use amqp::{AmqpBus, AmqpNames};
pub use bus::{BusError, Disposition, Handler, MemoryBus, Publisher};
pub use message::{partition_of, NoteMessage, PARTITIONS};
pub use relay::{run_relay, RELAY_NAME};
pub use worker::{FileNoteWorker, NOTE_MARKER_PREFIX};
