"""The one place configuration is read: environment variables, validated once."""

from __future__ import annotations

from decimal import Decimal
from functools import cache
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from stdnum.eu import at_02
from stdnum.exceptions import ValidationError as StdnumValidationError

from shared.customers import Address
from shared.invoicing.model import Seller


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BILLING_", frozen=True, extra="ignore")

    contracts_table: str = Field(min_length=3)
    documents_table: str = Field(min_length=3)
    control_table: str = Field(min_length=3)
    orders_table: str = Field(min_length=3)
    idempotency_table: str = Field(min_length=3)
    dunning_table: str = Field(min_length=3)
    archive_bucket: str = Field(min_length=3)
    work_bucket: str = Field(min_length=3)
    # Only the function that starts runs on a schedule is given the state machine.
    invoice_run_state_machine: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:states:")
    dunning_run_state_machine: str | None = Field(default=None, pattern=r"^arn:aws[a-z-]*:states:")
    payment_import_run_state_machine: str | None = Field(
        default=None, pattern=r"^arn:aws[a-z-]*:states:"
    )

    shard_count: int = Field(default=64, ge=1, le=100_000)
    retention_years: int = Field(default=8, ge=1, le=30)
    invoice_prefix: str = Field(default="RE", pattern=r"^[A-Z]{1,6}$")
    credit_note_prefix: str = Field(default="GS", pattern=r"^[A-Z]{1,6}$")
    payment_term_days: int = Field(default=14, ge=0, le=120)
    # Processes the invoice worker renders documents on while it stores the ones before; 0:
    # render in the worker, as on AWS Lambda, where each shard has a worker (and CPU) of its own.
    render_processes: int = Field(default=0, ge=0, le=64)
    # Payments: the fee a returned direct debit costs the customer (EUR, 0 for none).
    return_fee: Decimal = Field(default=Decimal("5.00"), ge=0, le=100, decimal_places=2)
    # Statement files larger than this are imported in parts by customer, on workers of their
    # own (the statement import's state machine); smaller ones by the function they reach.
    statement_parts_from_bytes: int = Field(default=2_000_000, ge=1)
    # Entries a part of a statement import holds at most (up to 100 parts).
    statement_part_entries: int = Field(default=1_000, ge=1, le=1_000_000)

    # Order intake: the days a customer may withdraw an order.
    withdrawal_days: int = Field(default=14, ge=0, le=90)

    # Delivery: the queue issued invoices are announced on (unset: the run announces nothing),
    # the SES identity e-mails come from, and the customer portal the e-mails link to.
    delivery_queue: str | None = None
    mail_from: str | None = None
    portal_url: str = "https://kundenportal.example"

    # Dunning: the levels file (a name in shared/data or a path), the base rate table, the
    # smallest open claim that is dunned, the notices' number range prefix, how long notices are
    # kept (commercial letters: six years, § 257 HGB), and the EventBridge bus that tells the
    # provisioning system to suspend or reactivate a customer (dunning refuses to run without).
    dunning_levels_file: str = Field(default="dunning_levels.json", min_length=1)
    dunning_minimum_open: Decimal = Field(default=Decimal("5.00"), ge=0, decimal_places=2)
    dunning_prefix: str = Field(default="MA", pattern=r"^[A-Z]{1,6}$")
    dunning_retention_years: int = Field(default=6, ge=1, le=30)
    provisioning_bus: str | None = None

    seller_name: str
    seller_street: str
    seller_postal_code: str
    seller_city: str
    seller_country: str = Field(default="DE", pattern=r"^[A-Z]{2}$")
    seller_vat_id: str
    seller_register: str
    seller_managing_director: str
    seller_email: str
    seller_iban: str
    seller_bic: str
    # The tax office's number: on documents that may not show the VAT id (EN 16931 BR-O-02).
    seller_tax_number: str = Field(min_length=1)
    # The contact XRechnung asks for (BR-DE-2): a department or person and a phone number.
    seller_contact: str = Field(min_length=1)
    seller_phone: str = Field(min_length=3)
    # The SEPA creditor identifier (AT-02): mandates are given to it, invoices collected by
    # direct debit name it, debit files collect under it. Unset: no direct debits.
    seller_creditor_id: str | None = None

    # DATEV export: chart of accounts, the tax advisor's consultant and client numbers, the
    # month the fiscal year starts, accounts that differ from the chart's defaults (by name, see
    # shared/accounts/datev.py DatevAccounts, e.g. {"bank": 1210}) and whether the advisor's
    # import fixes the bookings at once (Festschreibung).
    datev_chart: Literal["SKR03", "SKR04"] = "SKR03"
    datev_consultant: int = Field(default=1001, ge=1001, le=9_999_999)
    datev_client: int = Field(default=1, ge=1, le=99_999)
    datev_fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    datev_accounts: dict[str, int] = Field(default_factory=dict)
    datev_fixed: bool = False

    @field_validator("seller_creditor_id")
    @classmethod
    def _valid_creditor_id(cls, value: str | None) -> str | None:
        """Its ISO 7064 mod 97-10 check digits, in the compact form (python-stdnum)."""
        if value is None or not value.strip():
            return None
        try:
            return str(at_02.validate(value))
        except StdnumValidationError as error:
            raise ValueError(f"not a SEPA creditor identifier: {error}") from error

    @property
    def seller(self) -> Seller:
        return Seller(
            name=self.seller_name,
            address=Address(
                street=self.seller_street,
                postal_code=self.seller_postal_code,
                city=self.seller_city,
                country=self.seller_country,
            ),
            vat_id=self.seller_vat_id,
            trade_register=self.seller_register,
            managing_director=self.seller_managing_director,
            email=self.seller_email,
            iban=self.seller_iban,
            bic=self.seller_bic,
            tax_number=self.seller_tax_number,
            phone=self.seller_phone,
            contact=self.seller_contact,
            creditor_id=self.seller_creditor_id,
        )


@cache
def load_settings() -> Settings:
    return Settings()
