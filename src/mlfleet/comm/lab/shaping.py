"""Link shaping with ``tc tbf``, and what a shaped link can carry as TCP payload.

Each host link is shaped in both directions by a token-bucket filter:

* **uplink** = egress of the host-side veth (``eth0`` in the host namespace),
* **downlink** = egress of the bridge-side veth (``pK`` in the switch namespace).

tbf meters ``qdisc_pkt_len`` — the L2 frame from the Ethernet header to the end of
the payload, without preamble, FCS or inter-frame gap — so a rate of 1 Gbit/s is
125e6 *frame* bytes per second. A full TCP segment on an MTU-M link is a frame of
M + 14 bytes carrying M − 20 (IPv4) − 32 (TCP with timestamps) payload bytes, so
the payload rate is ``rate * (M - 52) / (M + 14)``: 0.9927 of the rate at MTU 9000,
0.9566 at MTU 1500 (RFC 7323 timestamps; Ethernet II framing).

The parameters are chosen so that TCP never sends a byte twice (a retransmission
puts payload on the link twice and breaks exact byte accounting):

* ``burst`` ≥ the largest GSO packet TCP hands the veth (64 KiB of payload plus
  the headers of each of its segments, :func:`gso_frame_bytes`) and ≥ 250 µs at
  the rate. A smaller bucket makes tbf split every GSO packet into frames and wait
  for a timer per frame; on a busy 2-CPU machine that cost 40–70% of a 1 Gbit/s
  link (measured: ring AllReduce 1 MiB, 25.9 ms with a 31 kB bucket, 17.7 ms with
  70 kB; model 15.2 ms). No larger, since a full bucket lets that much pass at
  line speed after an idle moment (72 kB: 0.6 ms at 1 Gbit/s);
* every host's route to the lab subnet clamps the TCP receive window it
  advertises to ``window`` = 25 ms at the rate (8 frames to 16 MiB), so a sender
  never has more than that in flight per connection: the shaper's queue, where
  all in-flight data waits, stays short;
* ``limit`` ≥ the windows of every peer of a host at once, so the queue never
  overflows (no drops);
* the route's ``rto_min`` exceeds four times the longest possible queueing delay
  (all peers' windows queued on one link), so a retransmission timer never fires
  spuriously. Tail-loss probes, which fire after only ~2 smoothed RTTs and so do
  fire when a ring step dumps a full window into an empty queue, are turned off
  in the host namespaces (``tcp_early_retrans=0``, see :mod:`.netns`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlfleet.comm.lab.netns import Runner, run_command
from mlfleet.errors import InputError

ETHERNET_HEADER_BYTES = 14
IPV4_HEADER_BYTES = 20
TCP_HEADER_WITH_TIMESTAMPS_BYTES = 32  # 20 + 10 (timestamp option) + 2 (NOP padding)
#: Bytes of headers that every packet of an established TCP connection carries on a link.
TCP_FRAME_HEADER_BYTES = ETHERNET_HEADER_BYTES + IPV4_HEADER_BYTES + TCP_HEADER_WITH_TIMESTAMPS_BYTES
#: Payload of the largest GSO packet TCP builds on a veth (its default gso_max_size).
GSO_MAX_PAYLOAD_BYTES = 65536
#: Time the bucket should cover so that a late qdisc timer does not cost rate.
BURST_TIME_S = 250e-6
#: Data a connection may have in flight, in time at the link rate.
WINDOW_TIME_S = 25e-3
#: Largest window clamp (a 100 Gbit/s "unshaped" lab would otherwise ask for 300 MB).
MAX_WINDOW_BYTES = 16 * 2**20
#: Linux's own minimum retransmission timeout (TCP_RTO_MIN).
LINUX_RTO_MIN_S = 0.2


@dataclass(frozen=True, kw_only=True)
class TbfConfig:
    """Parameters of one ``tc qdisc ... tbf``."""

    rate_bytes_per_s: float
    """Token rate, in L2 frame bytes per second."""
    burst_bytes: int
    """Bucket size: the most bytes that may leave back to back at line speed."""
    limit_bytes: int
    """Queue size; a frame arriving at a full queue is dropped."""
    window_bytes: int
    """TCP receive-window clamp on every lab route (``ip route ... window``)."""
    rto_min_s: float
    """Minimum TCP retransmission timeout on every lab route (``ip route ... rto_min``)."""

    def __post_init__(self) -> None:
        if not self.rate_bytes_per_s > 0:
            raise InputError(f"link rate(={self.rate_bytes_per_s!r} bytes/s) must be > 0")
        if self.burst_bytes <= 0 or self.limit_bytes < self.burst_bytes:
            raise InputError(
                f"tbf burst(={self.burst_bytes}) must be > 0 and limit(={self.limit_bytes}) "
                "at least the burst"
            )


def frame_bytes(mtu_bytes: int) -> int:
    """Bytes tbf meters for one full-MTU frame."""
    return mtu_bytes + ETHERNET_HEADER_BYTES


def mss_bytes(mtu_bytes: int) -> int:
    """TCP payload of a full segment (timestamps on)."""
    return mtu_bytes - IPV4_HEADER_BYTES - TCP_HEADER_WITH_TIMESTAMPS_BYTES


def gso_frame_bytes(mtu_bytes: int) -> int:
    """Bytes tbf meters for the largest TCP GSO packet: 64 KiB of payload, headers per segment."""
    segments = math.ceil(GSO_MAX_PAYLOAD_BYTES / mss_bytes(mtu_bytes))
    return segments * (mss_bytes(mtu_bytes) + TCP_FRAME_HEADER_BYTES)


def payload_fraction(mtu_bytes: int) -> float:
    """Fraction of a shaped link's rate that full TCP segments deliver as payload."""
    return mss_bytes(mtu_bytes) / frame_bytes(mtu_bytes)


def payload_rate_bytes_per_s(rate_bytes_per_s: float, mtu_bytes: int) -> float:
    """The bandwidth B a cost model should use for a link shaped at ``rate_bytes_per_s``."""
    return rate_bytes_per_s * payload_fraction(mtu_bytes)


def tbf_config(
    rate_bytes_per_s: float,
    *,
    mtu_bytes: int,
    n_hosts: int,
    burst_bytes: int | None = None,
    limit_bytes: int | None = None,
) -> TbfConfig:
    """The tbf parameters for a lab link (defaults as explained in the module docstring).

    Raises InputError for a rate <= 0 or a burst below two frames.
    """
    if not rate_bytes_per_s > 0:
        raise InputError(f"link rate(={rate_bytes_per_s!r} bytes/s) must be > 0")
    min_burst = 2 * frame_bytes(mtu_bytes)
    if burst_bytes is None:
        burst_bytes = max(min_burst, gso_frame_bytes(mtu_bytes),
                          int(rate_bytes_per_s * BURST_TIME_S))
    elif burst_bytes < min_burst:
        raise InputError(
            f"burst(={burst_bytes} bytes) must be at least two frames ({min_burst} bytes "
            f"at MTU {mtu_bytes}), or tbf drops full-size frames"
        )
    window_bytes = min(MAX_WINDOW_BYTES,
                       max(8 * frame_bytes(mtu_bytes), int(rate_bytes_per_s * WINDOW_TIME_S)))
    peers_in_flight_bytes = (n_hosts - 1) * window_bytes
    if limit_bytes is None:
        # x2: the advertised window is rounded up to the window-scale unit, and slack is free
        limit_bytes = 2 * peers_in_flight_bytes + burst_bytes
    rto_min_s = max(LINUX_RTO_MIN_S, 4 * peers_in_flight_bytes / rate_bytes_per_s)
    return TbfConfig(rate_bytes_per_s=rate_bytes_per_s, burst_bytes=burst_bytes,
                     limit_bytes=limit_bytes, window_bytes=window_bytes, rto_min_s=rto_min_s)


def tbf_command(namespace: str, dev: str, config: TbfConfig) -> list[str]:
    """``tc`` command line installing ``config`` as the root qdisc of ``dev``."""
    rate_bit = round(config.rate_bytes_per_s * 8)
    return ["tc", "-n", namespace, "qdisc", "replace", "dev", dev, "root", "tbf",
            "rate", f"{rate_bit}bit", "burst", str(config.burst_bytes),
            "limit", str(config.limit_bytes)]


def apply_shaping(
    links: list[tuple[str, str]], config: TbfConfig, runner: Runner = run_command
) -> None:
    """Install ``config`` on every ``(namespace, dev)`` in ``links``."""
    for namespace, dev in links:
        runner(tbf_command(namespace, dev, config))
