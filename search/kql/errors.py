"""The one exception of the query language: what went wrong and where."""


class KqlError(Exception):
    """A query that cannot be run, with a message fit for the person who typed it.

    `line` and `column` are 1-based positions in the query text; `token` is the text
    found there (empty when the error is about the query as a whole).
    """

    def __init__(self, message, line=1, column=1, token=""):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column
        self.token = token

    def __str__(self):
        return f"line {self.line}, column {self.column}: {self.message}"

    def as_dict(self):
        return {"message": self.message, "line": self.line, "column": self.column,
                "token": self.token}
