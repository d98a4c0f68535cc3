"""contrastive methods; `CONTRASTIVE_METHODS` is merged into `tfless.methods.METHODS`."""

CONTRASTIVE_METHODS: dict = {}
