"""The API's error envelope: {"error": {"code", "message", "field"}}."""


class ApiError(Exception):
    def __init__(self, status, code, message, field=None):
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def envelope(code, message, field=None):
    return {"error": {"code": code, "message": message, "field": field}}
