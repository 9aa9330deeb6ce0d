"""The measurements: ``make bench`` (:mod:`.bench`), ``make bench-scale`` (:mod:`.scale`), ``make proof``
(:mod:`.proof`), and what they share: the one runner of a measured tree's code (:mod:`.runner`), the
engines (:mod:`.engines`), AWS clients and fixtures (:mod:`.aws`), a function as Lambda runs it
(:mod:`.functions`), the report's header and table (:mod:`.report`), timings (:mod:`.stats`),
DynamoDB's item sizes (:mod:`.item_size`) and AWS's prices (:mod:`.prices`)."""
