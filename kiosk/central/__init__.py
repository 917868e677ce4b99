"""The reference central platform: a stand-in for the provincial platform (HTTP service)."""
