"""semi methods; `SEMI_METHODS` is merged into `tfless.methods.METHODS`."""

SEMI_METHODS: dict = {}
