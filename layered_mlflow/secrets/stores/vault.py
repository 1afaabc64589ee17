"""``vault:PATH#FIELD``: HashiCorp Vault or OpenBao, a KV version 2 secret's field, read with hvac (the `vault` extra).

The first part of PATH is the mount (``vault:secret/mlflow/prod#password``: mount ``secret``, secret
``mlflow/prod``), as ``vault kv get`` takes it; a PATH of one part is in the mount ``secret``. The server and
the token are the command's ``VAULT_ADDR``, ``VAULT_TOKEN`` (or a file named by ``VAULT_TOKEN_FILE``, from the
root, else ``~/.vault-token``), ``VAULT_NAMESPACE`` and ``VAULT_CACERT``, as Vault's own CLI reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from layered_mlflow.secrets.references import FetchError
from layered_mlflow.secrets.stores.common import client, remaining, selected

DEFAULT_MOUNT = "secret"
_STATUSES = {  # hvac's exception for each HTTP status Vault answers with
    "InvalidRequest": 400,
    "Unauthorized": 401,
    "Forbidden": 403,
    "InvalidPath": 404,
    "RateLimitExceeded": 429,
    "InternalServerError": 500,
    "VaultNotInitialized": 501,
    "BadGateway": 502,
    "VaultDown": 503,
}
_HINTS = {
    "Forbidden": "the token may not read it (its policy), or there is none: set VAULT_TOKEN or VAULT_TOKEN_FILE",
    "Unauthorized": "the token is not valid (expired?): set VAULT_TOKEN or VAULT_TOKEN_FILE",
    "InvalidPath": "check the path (its first part is the mount, a KV version 2 engine) and VAULT_NAMESPACE",
    "VaultDown": "Vault is sealed: unseal it, or check VAULT_ADDR",
    "SSLError": "VAULT_CACERT names the certificate authority of Vault's certificate",
}


def split(path: str) -> tuple[str, str]:
    """The mount and the secret's path within it."""
    mount, _, inside = path.partition("/")
    return (mount, inside) if inside else (DEFAULT_MOUNT, mount)


def fetch(reference: str, environment: Mapping[str, str], where: str, deadline: float, root: Path) -> str:
    path, _, field = reference.removeprefix("vault:").partition("#")
    hvac = client("hvac", "hvac", "vault", where, reference)
    import requests  # hvac's own transport

    address = environment.get("VAULT_ADDR")
    if not address:
        raise FetchError(f"{where} = {reference}: VAULT_ADDR is not set", hint="set VAULT_ADDR to Vault's URL")
    mount, inside = split(path)
    try:
        vault = hvac.Client(
            url=address,
            token=_token(environment, root, where, reference),
            namespace=environment.get("VAULT_NAMESPACE") or None,
            verify=environment.get("VAULT_CACERT") or True,
            timeout=remaining(deadline),
        )
        answer = vault.secrets.kv.v2.read_secret_version(path=inside, mount_point=mount, raise_on_deleted_version=True)
    except hvac.exceptions.VaultError as exc:
        name = type(exc).__name__
        code = f"{name} ({_STATUSES[name]})" if name in _STATUSES else name
        raise FetchError(f"{where} = {reference}: Vault answered {code}", hint=_HINTS.get(name)) from None
    except requests.RequestException as exc:
        name = "timeout" if isinstance(exc, requests.Timeout) else type(exc).__name__
        hint = _HINTS.get(name, "is VAULT_ADDR right, and Vault reachable from here?")
        raise FetchError(f"{where} = {reference}: cannot reach Vault ({name})", hint=hint) from None
    data = answer.get("data", {}).get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict):
        raise FetchError(f"{where} = {reference}: Vault answered without the secret's data (not KV version 2?)")
    return selected(data, [field], where, reference)


def _token(environment: Mapping[str, str], root: Path, where: str, reference: str) -> str | None:
    """VAULT_TOKEN, else the content of VAULT_TOKEN_FILE (a relative path from the root, as an X_FILE's);
    None leaves hvac to ~/.vault-token."""
    if environment.get("VAULT_TOKEN"):
        return environment["VAULT_TOKEN"]
    named = environment.get("VAULT_TOKEN_FILE")
    if not named:
        return None
    try:
        return (root / named).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or "not UTF-8 text"
        raise FetchError(f"{where} = {reference}: VAULT_TOKEN_FILE {named} cannot be read ({reason})") from None
