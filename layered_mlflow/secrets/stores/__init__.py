"""The secret stores beyond AWS and 1Password (SPEC §11): Vault and OpenBao, Google Secret Manager, Azure Key Vault,
SOPS files. One module each, imported only when a reference of its kind is fetched; ``common`` is what they share.
"""
