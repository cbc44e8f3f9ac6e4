"""Wire formats: paths, field names, status names and bodies, with no web framework.

The server's routers (``conch.api``) and the SDK's adapters (``conch.client``) both build
and read bodies from these modules, so each format is written down once.
"""
