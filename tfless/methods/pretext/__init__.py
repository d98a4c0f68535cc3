"""pretext methods; `PRETEXT_METHODS` is merged into `tfless.methods.METHODS`."""

PRETEXT_METHODS: dict = {}
