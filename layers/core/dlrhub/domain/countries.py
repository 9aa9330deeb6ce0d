"""Destination countries: from a phone number's E.164 calling code, or from a mobile country code.

Pure data and lookups (docs/statistics.md, "Countries"). A country is an ISO 3166-1 alpha-2 code;
``ZZ`` (ISO's "unknown or unspecified") where none can be told.

* :data:`CALLING_CODES`: every geographic country calling code of ITU-T E.164 and the country it
  belongs to, as Google's libphonenumber metadata assigns them (its main region where several share a
  code: +44 is GB, not Jersey, Guernsey or the Isle of Man; +47 NO; +61 AU; +262 RE; +590 GP;
  +599 CW). Non-geographic codes (+800, +808, +870, +881, +882, +883, +888, +979) are ``ZZ``.
* +1 is the North American Numbering Plan: the three-digit area code after it says which of its
  countries (:data:`NANP_AREA_CODES`, the area codes libphonenumber gives a member other than the
  United States); every other area code is ``US``.
* +7 is shared by Russia and Kazakhstan: +7 7… is ``KZ``, any other +7 number ``RU`` (libphonenumber's
  leading digits).
* :data:`MOBILE_COUNTRY_CODES`: ITU-T E.212 mobile country codes (MCC, the first three digits of an
  MCC/MNC pair) and their country; where one MCC serves several territories, the main one (340 GP,
  362 CW, 505 AU, 647 RE).

tests/unit/test_countries.py checks the calling codes against libphonenumber (a test dependency, not
the layer's: its 5 MB of metadata and ~100 ms import would land on the API function's cold start).
"""

from __future__ import annotations

import re

UNKNOWN = "ZZ"
#: An ISO 3166-1 alpha-2 code, as the hub stores one.
COUNTRY = re.compile(r"^[A-Z]{2}$")


def _table(text: str) -> dict[str, str]:
    pairs = text.split()
    return dict(zip(pairs[::2], pairs[1::2], strict=True))


#: ITU-T E.164 country calling code -> ISO 3166-1 alpha-2 (libphonenumber's main region of the code).
CALLING_CODES = _table(
    """
1 US  7 RU  20 EG  27 ZA  30 GR  31 NL  32 BE  33 FR  34 ES  36 HU
39 IT  40 RO  41 CH  43 AT  44 GB  45 DK  46 SE  47 NO  48 PL  49 DE
51 PE  52 MX  53 CU  54 AR  55 BR  56 CL  57 CO  58 VE  60 MY  61 AU
62 ID  63 PH  64 NZ  65 SG  66 TH  81 JP  82 KR  84 VN  86 CN  90 TR
91 IN  92 PK  93 AF  94 LK  95 MM  98 IR  211 SS  212 MA  213 DZ  216 TN
218 LY  220 GM  221 SN  222 MR  223 ML  224 GN  225 CI  226 BF  227 NE  228 TG
229 BJ  230 MU  231 LR  232 SL  233 GH  234 NG  235 TD  236 CF  237 CM  238 CV
239 ST  240 GQ  241 GA  242 CG  243 CD  244 AO  245 GW  246 IO  247 AC  248 SC
249 SD  250 RW  251 ET  252 SO  253 DJ  254 KE  255 TZ  256 UG  257 BI  258 MZ
260 ZM  261 MG  262 RE  263 ZW  264 NA  265 MW  266 LS  267 BW  268 SZ  269 KM
290 SH  291 ER  297 AW  298 FO  299 GL  350 GI  351 PT  352 LU  353 IE  354 IS
355 AL  356 MT  357 CY  358 FI  359 BG  370 LT  371 LV  372 EE  373 MD  374 AM
375 BY  376 AD  377 MC  378 SM  380 UA  381 RS  382 ME  383 XK  385 HR  386 SI
387 BA  389 MK  420 CZ  421 SK  423 LI  500 FK  501 BZ  502 GT  503 SV  504 HN
505 NI  506 CR  507 PA  508 PM  509 HT  590 GP  591 BO  592 GY  593 EC  594 GF
595 PY  596 MQ  597 SR  598 UY  599 CW  670 TL  672 NF  673 BN  674 NR  675 PG
676 TO  677 SB  678 VU  679 FJ  680 PW  681 WF  682 CK  683 NU  685 WS  686 KI
687 NC  688 TV  689 PF  690 TK  691 FM  692 MH  850 KP  852 HK  853 MO  855 KH
856 LA  880 BD  886 TW  960 MV  961 LB  962 JO  963 SY  964 IQ  965 KW  966 SA
967 YE  968 OM  970 PS  971 AE  972 IL  973 BH  974 QA  975 BT  976 MN  977 NP
992 TJ  993 TM  994 AZ  995 GE  996 KG  998 UZ
"""
)

#: NANP area codes (+1 NPA) of members other than the United States (libphonenumber's regions).
NANP_AREA_CODES = _table(
    """
204 CA  226 CA  236 CA  242 BS  246 BB  249 CA  250 CA  257 CA  263 CA  264 AI
268 AG  273 CA  284 VG  289 CA  306 CA  340 VI  343 CA  345 KY  354 CA  365 CA
367 CA  368 CA  382 CA  403 CA  416 CA  418 CA  428 CA  431 CA  437 CA  438 CA
441 BM  450 CA  468 CA  473 GD  474 CA  506 CA  514 CA  519 CA  548 CA  579 CA
581 CA  584 CA  587 CA  600 CA  604 CA  613 CA  622 CA  633 CA  639 CA  647 CA
649 TC  658 JM  664 MS  670 MP  671 GU  672 CA  683 CA  684 AS  705 CA  709 CA
721 SX  742 CA  753 CA  758 LC  767 DM  778 CA  780 CA  782 CA  784 VC  787 PR
807 CA  809 DO  819 CA  825 CA  829 DO  849 DO  867 CA  868 TT  869 KN  873 CA
876 JM  879 CA  902 CA  905 CA  939 PR  942 CA
"""
)

#: ITU-T E.212 mobile country code -> ISO 3166-1 alpha-2.
MOBILE_COUNTRY_CODES = _table(
    """
202 GR  204 NL  206 BE  208 FR  212 MC  213 AD  214 ES  216 HU  218 BA  219 HR
220 RS  221 XK  222 IT  226 RO  228 CH  230 CZ  231 SK  232 AT  234 GB  235 GB
238 DK  240 SE  242 NO  244 FI  246 LT  247 LV  248 EE  250 RU  255 UA  257 BY
259 MD  260 PL  262 DE  266 GI  268 PT  270 LU  272 IE  274 IS  276 AL  278 MT
280 CY  282 GE  283 AM  284 BG  286 TR  288 FO  290 GL  292 SM  293 SI  294 MK
295 LI  297 ME  302 CA  308 PM  310 US  311 US  312 US  313 US  314 US  315 US
316 US  330 PR  334 MX  338 JM  340 GP  342 BB  344 AG  346 KY  348 VG  350 BM
352 GD  354 MS  356 KN  358 LC  360 VC  362 CW  363 AW  364 BS  365 AI  366 DM
368 CU  370 DO  372 HT  374 TT  376 TC  400 AZ  401 KZ  402 BT  404 IN  405 IN
410 PK  412 AF  413 LK  414 MM  415 LB  416 JO  417 SY  418 IQ  419 KW  420 SA
421 YE  422 OM  424 AE  425 IL  426 BH  427 QA  428 MN  429 NP  432 IR  434 UZ
436 TJ  437 KG  438 TM  440 JP  441 JP  450 KR  452 VN  454 HK  455 MO  456 KH
457 LA  460 CN  466 TW  467 KP  470 BD  472 MV  502 MY  505 AU  510 ID  514 TL
515 PH  520 TH  525 SG  528 BN  530 NZ  536 NR  537 PG  539 TO  540 SB  541 VU
542 FJ  543 WF  544 AS  545 KI  546 NC  547 PF  548 CK  549 WS  550 FM  551 MH
552 PW  553 TV  554 TK  555 NU  602 EG  603 DZ  604 MA  605 TN  606 LY  607 GM
608 SN  609 MR  610 ML  611 GN  612 CI  613 BF  614 NE  615 TG  616 BJ  617 MU
618 LR  619 SL  620 GH  621 NG  622 TD  623 CF  624 CM  625 CV  626 ST  627 GQ
628 GA  629 CG  630 CD  631 AO  632 GW  633 SC  634 SD  635 RW  636 ET  637 SO
638 DJ  639 KE  640 TZ  641 UG  642 BI  643 MZ  645 ZM  646 MG  647 RE  648 ZW
649 NA  650 MW  651 LS  652 BW  653 SZ  654 KM  655 ZA  657 ER  658 SH  659 SS
702 BZ  704 GT  706 SV  708 HN  710 NI  712 CR  714 PA  716 PE  722 AR  724 BR
730 CL  732 CO  734 VE  736 BO  738 GY  740 EC  742 GF  744 PY  746 SR  748 UY
750 FK
"""
)

_INTERNATIONAL_PREFIX = "00"


def country_of_number(number: str) -> str:
    """The country of an international number (digits, a leading ``+`` or ``00`` allowed), by its
    calling code; ``ZZ`` when no geographic calling code starts it."""
    digits = number.strip().removeprefix("+")
    if digits.startswith(_INTERNATIONAL_PREFIX):
        digits = digits[len(_INTERNATIONAL_PREFIX) :]
    if not digits.isdigit():
        return UNKNOWN
    if digits.startswith("1"):
        return NANP_AREA_CODES.get(digits[1:4], "US") if len(digits) > 1 else UNKNOWN
    if digits.startswith("7"):
        return "KZ" if digits[1:2] == "7" else "RU"
    for length in (2, 3):
        found = CALLING_CODES.get(digits[:length])
        if found:
            return found
    return UNKNOWN


def country_of_mcc(mcc: str) -> str | None:
    """The country of a mobile country code (or of an MCC/MNC pair such as ``51010``); None if unknown."""
    digits = mcc.strip()
    return MOBILE_COUNTRY_CODES.get(digits[:3]) if digits[:3].isdigit() else None


def iso_country(code: str) -> str | None:
    """An ISO 3166-1 alpha-2 code as given by a provider (any case), or None when it is not one."""
    upper = code.strip().upper()
    return upper if COUNTRY.match(upper) else None
