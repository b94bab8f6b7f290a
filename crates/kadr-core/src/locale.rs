//! The languages Kadr speaks to people in (en, ru, ar): negotiation from Accept-Language and
//! the words for each error code.
