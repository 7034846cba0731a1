"""India's administrative geography: LGD codes for states, districts and sub-districts."""

from mrc_geography.lgd import LGD, District, State, SubDistrict, lgd

__all__ = ["LGD", "District", "State", "SubDistrict", "lgd"]
