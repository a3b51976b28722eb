class IdConverter:
    """A database id in a URL: at most 18 digits, so it always fits a bigint (a longer
    number is a 404, never an overflow deep in the database driver)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return str(value)
