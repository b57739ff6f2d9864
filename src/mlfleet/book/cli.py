"""``mlfleet book``: write the textbook's tables, and check a chapter's tables against the models."""

from __future__ import annotations

from pathlib import Path

import click


@click.group("book", context_settings={"help_option_names": ["-h", "--help"]})
def book_group() -> None:
    """Textbook tables from the models: write them, check a chapter against them."""


@book_group.command("tables")
@click.option("--out", "out", help="Directory to write DIR/<id>.md and DIR/index.md into.")
@click.option("--chapter", help="Only this chapter's tables: infra, storage, comm, "
              "reliability, serving or ops.")
@click.option("--id", "table_id", help="Only this table (see --list).")
@click.option("--list", "as_list", is_flag=True, help="Print the table ids and what each "
              "answers; write nothing.")
def tables_command(out: str | None, chapter: str | None, table_id: str | None,
                   as_list: bool) -> None:
    """Write the spec's quantitative tables as Markdown, each between markers with its id.

    \b
    mlfleet book tables --out book-tables
    mlfleet book tables --out book-tables --chapter comm
    mlfleet book tables --list
    """
    from mlfleet.book.markers import BookInputError
    from mlfleet.book.registry import select

    chosen = select(chapter=chapter, table_id=table_id)
    if as_list:
        for spec in chosen:
            click.echo(f"{spec.id}\t{spec.spec_item}")
        return
    if not out:
        raise BookInputError("--out(='') is missing: give the directory to write the tables "
                             "into, e.g. --out book-tables (or --list)")
    from mlfleet.book.document import INDEX, index_file, table_file
    from mlfleet.book.output_dir import check_target, write_files

    check_target(Path(out))
    built = [(spec, spec.build()) for spec in chosen]
    files = {f"{spec.id}.md": table_file(spec, table) for spec, table in built}
    files[INDEX] = index_file(built)
    write_files(Path(out), files)
    click.echo(f"wrote {len(built)} table(s) and {INDEX} to {out}")


@book_group.command("check")
@click.argument("chapters", nargs=-1, required=True, type=click.Path(path_type=Path))
def check_command(chapters: tuple[Path, ...]) -> None:
    """Recompute every table embedded in CHAPTER.md files; exit 3 with a diff on drift.

    \b
    mlfleet book check chapters/communication.md
    """
    from mlfleet.book.check import BookDriftError, check_chapters

    count, drifts = check_chapters(list(chapters))
    for drift in drifts:
        click.echo(f"{drift.path}:{drift.line}: table {drift.table_id} no longer matches "
                   "the models")
        for cell in drift.cells:
            click.echo(f"  {cell}")
        click.echo(drift.diff)
    if drifts:
        raise BookDriftError(f"{len(drifts)} of {count} embedded table(s) no longer match "
                             "the models; paste a fresh `mlfleet book tables` output")
    click.echo(f"{count} embedded table(s) match the models")
