def main() -> None:  # replaced by the Typer app
    raise SystemExit(0)
