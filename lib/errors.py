"""One idea, one class: every refusal in `lib` is a `Refusal` — a reason `code` a page translates
and the `details` its message needs. Each concept subclasses it under its own name (a page
catches `pooling.PoolingError`, `saving.SavingError`, ...), and `lib.ui.say` shows any of them."""


class Refusal(ValueError):
    """Something `lib` will not do, and why. `code` names the reason (the page's catalog has
    "<page>.error.<code>"), `details` the values that message needs; `str(refusal)` is the
    English summary for logs and tests."""

    catalog = "errors"  # where a page finds its message: f"{catalog}.{code}"

    def __init__(self, code, summary, **details):
        super().__init__(summary)
        self.code, self.details = code, details

    def __repr__(self):
        return f"{type(self).__name__}({self.code!r}, {str(self)!r})"
