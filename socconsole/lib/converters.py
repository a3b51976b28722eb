from socconsole.lib.ids import ID_PATTERN, parse_id


class IdConverter:
    """A database id in a URL, parsed as every id is (`socconsole.lib.ids`): a number past
    the bigint range is a 404, never an overflow deep in the database driver."""

    regex = ID_PATTERN

    def to_python(self, value: str) -> int:
        number = parse_id(value)
        if number is None:
            raise ValueError(value)  # Django tries the next pattern, then answers 404
        return number

    def to_url(self, value: object) -> str:
        return str(value)
