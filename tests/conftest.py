import logging
import os

os.environ.setdefault("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")

for _name in ("moto", "werkzeug", "botocore"):
    logging.getLogger(_name).setLevel(logging.CRITICAL)
