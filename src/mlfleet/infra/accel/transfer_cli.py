"""``mlfleet infra transfer``: how long a host<->device or device<->device copy takes."""

from __future__ import annotations

import dataclasses

import click

from mlfleet.units import parse_quantity


@click.command("transfer")
@click.option("--bytes", "size", default="1GB", show_default=True,
              help="Bytes to copy, e.g. 16GB (a checkpoint shard), 4MiB.")
@click.option("--link", default="pcie5x16", show_default=True,
              help="pcie<3-6>x<1|2|4|8|16> (host<->device) or nvlink<3-5> (device<->device).")
@click.option("--pageable", is_flag=True,
              help="Host memory is pageable (staged through a pinned buffer), not pinned.")
@click.option("--host-copy-bw", default="10GB/s", show_default=True,
              help="Host memcpy bandwidth for pageable staging (an assumption; measure yours "
                   "with `mlfleet infra probe`).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def transfer_command(size: str, link: str, pageable: bool, host_copy_bw: str,
                     as_json: bool) -> None:
    """Time of one copy over PCIe or NVLink, with its latency, wire and staging terms.

    \b
    mlfleet infra transfer --bytes 1GB --link pcie5x16
    mlfleet infra transfer --bytes 1GB --link pcie4x16 --pageable --json
    mlfleet infra transfer --bytes 16GB --link nvlink4
    """
    from mlfleet.infra.accel.transfer import parse_link, transfer_time

    parsed = parse_link(link)
    n_bytes = parse_quantity(size, "bytes")
    result = transfer_time(n_bytes=n_bytes, link=parsed, pinned=not pageable,
                           host_copy_bw_bytes_per_s=parse_quantity(host_copy_bw, "bytes_per_s"))
    payload = {"fidelity": "model", "link": dataclasses.asdict(parsed), "bytes": n_bytes,
               "pinned": not pageable, **dataclasses.asdict(result)}
    if as_json:
        from mlfleet.cli import emit_json

        emit_json(payload)
        return
    from mlfleet.report.terminal import format_value, print_table

    rows = [[name, format_value(name, payload[name])]
            for name in ("time_s", "latency_s", "wire_s", "staging_s", "achieved_bytes_per_s",
                         "bound")]
    print_table(["term", "value"], rows,
                title=f"transfer (model): {format_value('n_bytes', n_bytes)} over {parsed.name}"
                      f" ({'pinned' if not pageable else 'pageable'}), link "
                      f"{format_value('raw_bw_bytes_per_s', parsed.raw_bw_bytes_per_s)} x "
                      f"{parsed.achievable_fraction:.2f} achievable")
