"""JSON schemas of a bundle's manifest.json and history.json, and one-line messages for violations.

A bundle is read by the app, the CLI and outside evaluators, and may have been edited by
hand or doctored: every field those readers use is checked here (type, range, presence)
before anything else in the bundle is opened. The schemas allow extra fields, so a newer
exporter can add some without breaking older readers.
"""

from __future__ import annotations

import jsonschema

READABLE_VERSIONS = (1, 2, 3)  # 2 adds the optional "onnx" browser models, 3 the "data" block
MAX_LATENT_DIM = 256  # as VAEConfig allows
MAX_NAME_CHARS = 200

# A file a manifest names: a plain name inside the bundle folder (no folder, no "..", not hidden).
FILE_NAME = {"type": "string", "pattern": r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,99}$"}
LIMIT = 1e12  # no metric is anywhere near this; beyond it a number is damage, not a measurement
NUMBER = {"type": "number", "minimum": -LIMIT, "maximum": LIMIT}
NATS = {"type": "number", "minimum": 0, "maximum": LIMIT}
STRING = {"type": "string", "maxLength": 10_000}

MAX_CLASSES = 50
MAX_FACTORS = 16
FACTOR_NAME = r"^[A-Za-z][A-Za-z0-9_]{0,31}$"
# Known generating factors of a data set (schema 3, optional): their values are in test_images.npz.
FACTORS = {
    "type": "object",
    "maxProperties": MAX_FACTORS,
    "propertyNames": {"pattern": FACTOR_NAME},
    "additionalProperties": {
        "oneOf": [
            {
                "type": "object",
                "required": ["kind", "names"],
                "properties": {
                    "kind": {"const": "categorical"},
                    "names": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": MAX_CLASSES,
                        "items": {"type": "string", "maxLength": MAX_NAME_CHARS},
                    },
                },
            },
            {
                "type": "object",
                "required": ["kind", "min", "max"],
                "properties": {"kind": {"const": "continuous"}, "min": NUMBER, "max": NUMBER},
            },
        ]
    },
}
SHARE = {"type": "number", "minimum": -1, "maximum": 1.0001}
# Per factor, the latent dimension that carries it most (vae_core.disentangle.mig).
DISENTANGLEMENT = {
    "type": "object",
    "properties": {
        "bins": {"type": "integer", "minimum": 2},
        "factors": {
            "type": "object",
            "maxProperties": MAX_FACTORS,
            "propertyNames": {"pattern": FACTOR_NAME},
            "additionalProperties": {
                "type": "object",
                "required": ["dim", "share", "gap"],
                "properties": {
                    "dim": {"type": "integer", "minimum": 0, "maximum": MAX_LATENT_DIM - 1},
                    "share": SHARE,
                    "gap": SHARE,
                    "shares": {"type": "array", "maxItems": MAX_LATENT_DIM, "items": SHARE},
                },
            },
        },
    },
}
# Schema 3's data block (own data sets); a Fashion-MNIST bundle's "data" holds only source and sha256.
DATA = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS},
        "image_shape": {
            "type": "array",
            "prefixItems": [
                {"type": "integer", "minimum": 8, "maximum": 64},
                {"type": "integer", "minimum": 8, "maximum": 64},
                {"enum": [1, 3]},
            ],
            "minItems": 3,
            "maxItems": 3,
        },
        "class_names": {
            "type": ["array", "null"],
            "minItems": 1,
            "maxItems": MAX_CLASSES,
            "items": {"type": "string", "maxLength": MAX_NAME_CHARS},
        },
        "n_train": {"type": "integer", "minimum": 0},
        "n_test": {"type": "integer", "minimum": 1, "maximum": 10_000},
        "floor_nats": NATS,
        "background": {"enum": ["dark", "light"]},
        "factors": FACTORS,
    },
}

MANIFEST = {
    "type": "object",
    "required": ["schema_version", "name", "latent_dim", "config", "metrics"],
    "properties": {
        "schema_version": {"type": "integer", "enum": list(READABLE_VERSIONS)},
        "name": {"type": "string", "minLength": 1, "maxLength": MAX_NAME_CHARS},
        "latent_dim": {"type": "integer", "minimum": 1, "maximum": MAX_LATENT_DIM},
        "config": {
            "type": "object",
            "required": ["latent_dim"],
            "properties": {"latent_dim": {"type": "integer", "minimum": 1, "maximum": MAX_LATENT_DIM}},
        },
        "metrics": {
            "type": "object",
            "required": ["test_neg_elbo_nats", "test_recon_bce_nats", "test_kl_nats", "knn5_accuracy"],
            "properties": {
                "test_neg_elbo_nats": NUMBER,
                "test_recon_bce_nats": NATS,
                "test_kl_nats": NUMBER,  # a Monte Carlo estimate (mixture prior) may dip below 0
                # null when the data set has no labels (schema 3)
                "knn5_accuracy": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                "test_iw_nll_nats": NUMBER,
                "test_recon_mse": {"type": "number", "minimum": 0},
                "iw_samples": {"type": "integer", "minimum": 1},
                "kl_per_dimension": {"type": "array", "maxItems": MAX_LATENT_DIM, "items": NUMBER},
                "mig": {"type": ["number", "null"], "minimum": -1, "maximum": 1.0001},
                "disentanglement": DISENTANGLEMENT,
                "latent_stats": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "maxItems": MAX_LATENT_DIM, "items": NUMBER},
                },
            },
        },
        "prior": {
            "type": "object",
            "required": ["type"],
            "properties": {
                "type": {"enum": ["standard_normal", "gaussian_mixture"]},
                "file": FILE_NAME,
                "components": {"type": "integer", "minimum": 1, "maximum": 1000},
            },
        },
        "architecture": {"type": "object"},
        "versions": {"type": "object", "additionalProperties": STRING},
        "data": DATA,
        "training": {
            "type": "object",
            "properties": {
                "epochs_run": {"type": "integer", "minimum": 0},
                "best_epoch": {"type": ["integer", "null"], "minimum": 0},
                "seconds": {"type": "number", "minimum": 0},
                "seconds_per_epoch": {"type": "number", "minimum": 0},
            },
        },
        "created": STRING,
        "command": STRING,
        "onnx": {"type": "object"},  # its entries and checksums: vae_core.browser_models, on loading
    },
}

HISTORY = {
    "type": "array",
    "maxItems": 100_000,
    "items": {
        "type": "object",
        "properties": {"epoch": {"type": "integer", "minimum": 0}},
        # every other entry of an epoch is a loss or a timing: a number (or null when missing)
        "additionalProperties": {"type": ["number", "null"]},
    },
}

_TYPE_WORDS = {
    "object": "a JSON object",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "null": "null",
    "boolean": "true or false",
}


def shown(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _field(error: jsonschema.ValidationError) -> str:
    """The field's path as people write it: ``metrics.test_neg_elbo_nats``, ``[3].loss``."""
    out = ""
    for part in error.absolute_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def describe(error: jsonschema.ValidationError) -> str:
    """One line: which field is wrong and what it should be."""
    field, kind, want, value = _field(error), error.validator, error.validator_value, error.instance
    where = f"field {field}" if field else "the file"
    if kind == "required":
        missing = [name for name in want if name not in value]
        inside = f" in {field}" if field else ""
        return f"lacks the field(s) {', '.join(missing)}{inside}"
    if kind == "type":
        kinds = want if isinstance(want, list) else [want]
        return f"{where} should be {' or '.join(_TYPE_WORDS.get(k, k) for k in kinds)}, not {shown(value)}"
    if kind == "enum":
        return f"{where} should be one of {', '.join(map(repr, want))}, not {shown(value)}"
    if kind in ("minimum", "maximum"):
        return f"{where} is {shown(value)}, should be {'at least' if kind == 'minimum' else 'at most'} {want}"
    if kind == "pattern" and want == FILE_NAME["pattern"]:
        return f"{where} is {shown(value)}: a file in the bundle is named plainly (no folders, no '..')"
    if kind == "pattern":
        return f"{where} is {shown(value)}, which is not of the expected form ({want})"
    if kind in ("maxLength", "minLength", "maxItems", "minItems"):
        return f"{where} is too {'long' if kind.startswith('max') else 'short'} ({kind} {want})"
    return f"{where}: {error.message[:120]}"


def first_problem(instance: object, schema: dict) -> str | None:
    """The most relevant violation of ``schema`` as one line, or None when ``instance`` is valid."""
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(instance))
    return None if error is None else describe(error)
