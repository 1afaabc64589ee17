"""``azure-kv:VAULT/NAME[/VERSION]``: Azure Key Vault, through azure-keyvault-secrets and azure-identity (the
`azure-kv` extra).

VAULT is a vault's name (``https://VAULT.vault.azure.net``) or a host (``VAULT.vault.azure.cn``, a private
endpoint's ``10.0.0.5:443``). Credentials are ``DefaultAzureCredential``'s, from the command's variables
(``AZURE_CLIENT_ID`` and friends, workload identity, managed identity, ``az login``).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Mapping

from layered_mlflow.secrets.references import FetchError
from layered_mlflow.secrets.stores.common import HTTP_VARIABLES, client, remaining, variables

_VARIABLES = ("AZURE_", "IDENTITY_", "IMDS_", "MSI_", "MSAL_", *HTTP_VARIABLES)  # what azure-identity reads
_HINTS = {
    "SecretNotFound": "check the vault's and the secret's names (and its version)",
    "Forbidden": "the identity may not read it: grant it the Key Vault Secrets User role (or an access policy)",
    "Unauthorized": "the token was refused: check AZURE_TENANT_ID and the identity",
}
_NO_CREDENTIALS = "sign in with `az login`, or set AZURE_CLIENT_ID, AZURE_TENANT_ID and AZURE_CLIENT_SECRET"


def vault_url(vault: str) -> str:
    """The vault's URL: a name is in Azure's public cloud, a host (with a dot or a port) is taken as it is."""
    return f"https://{vault}" if "." in vault or ":" in vault else f"https://{vault}.vault.azure.net"


def _is_address(vault: str) -> bool:
    """Whether the vault is named by an IP address, whose host no challenge's resource can match."""
    host = vault.rsplit(":", 1)[0] if vault.count(":") == 1 else vault
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def fetch(reference: str, environment: Mapping[str, str], where: str, deadline: float) -> str:
    vault, name, *version = reference.removeprefix("azure-kv:").split("/")
    secrets = client("azure.keyvault.secrets", "azure-keyvault-secrets", "azure-kv", where, reference)
    identity = client("azure.identity", "azure-identity", "azure-kv", where, reference)
    from azure.core import exceptions as azure

    quiet = logging.getLogger("azure")  # its warnings (a failed credential) are ours to say, in one line
    if not quiet.handlers:
        quiet.addHandler(logging.NullHandler())
    seconds = remaining(deadline)
    try:
        with variables(environment, _VARIABLES):
            credential = identity.DefaultAzureCredential(retry_total=0, connection_timeout=seconds)
            service = secrets.SecretClient(
                vault_url(vault),
                credential,
                retry_total=0,
                connection_timeout=seconds,
                read_timeout=seconds,
                verify_challenge_resource=not _is_address(vault),
            )
            value: str | None = service.get_secret(name, version[0] if version else None).value
    except identity.CredentialUnavailableError:
        raise FetchError(f"{where} = {reference}: no Azure credentials found", hint=_NO_CREDENTIALS) from None
    except azure.HttpResponseError as exc:
        if exc.response is None or exc.status_code is None:  # the credential's own request was refused
            raise FetchError(f"{where} = {reference}: Azure's credential was refused ({type(exc).__name__})") from None
        code = exc.error.code if exc.error is not None and exc.error.code else f"HTTP {exc.status_code}"
        raise FetchError(f"{where} = {reference}: Key Vault answered {code}", hint=_HINTS.get(code)) from None
    except azure.AzureError as exc:  # no answer at all: a refused connection, a timeout, a certificate
        code = "timeout" if "Timeout" in type(exc).__name__ else type(exc).__name__
        raise FetchError(
            f"{where} = {reference}: cannot reach {vault_url(vault)} ({code})",
            hint="is the vault reachable from here (a proxy, the network, its certificate: REQUESTS_CA_BUNDLE)?",
        ) from None
    if value is None:
        raise FetchError(f"{where} = {reference}: Key Vault answered without the secret's value")
    return value
