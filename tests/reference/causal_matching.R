# Reference values for causalinfer.causal.matching(..., replace=False): greedy nearest-neighbour matching
# without replacement as R's MatchIt 4.5.1 does it, then the effect on the matched sample.
# Run from the repository root:  Rscript tests/reference/causal_matching.R
#
# For each case: matchit(method = "nearest", replace = FALSE, distance = "glm" (logistic propensity score) or
# "mahalanobis", ratio, caliper in standard deviations of the propensity score (std.caliper = TRUE); with
# Mahalanobis matching a caliper is placed on a logistic propensity score with the covariates as `mahvars`),
# MatchIt's default matching order (m.order "largest" for the ATT / "smallest" for the ATC when a propensity
# score is estimated, "data" for Mahalanobis without caliper).
#
# Propensity-score matching without `mahvars` runs, in MatchIt 4.5.1, through a new fast routine
# (nn_matchC_vec) whose distance comparisons truncate to integers: it always takes the lower-score neighbour
# and never applies the caliper (checked on lalonde: all 185 matches lie below their treated unit, and a caliper
# of 0.001 SD drops nobody). Those cases therefore call MatchIt's general engine MatchIt:::nn_matchC (the one
# matchit() uses for Mahalanobis matching) with the same glm propensity score, matching order and caliper, and
# build weights and subclasses with MatchIt's own weights.matrix() and mm2subclass(). The effect is the coefficient of lm(y ~ treat,
# weights = weights) on match.data() and its standard error sandwich::vcovCL(fit, cluster = ~subclass)
# (MatchIt's vignette "Estimating Effects After Matching"). The matched controls of every focal unit (0-based
# row numbers, -1 where none) come from match.matrix.
suppressPackageStartupMessages({
  library(MatchIt)
  library(sandwich)
  library(lmtest)
  library(jsonlite)
})
stopifnot(packageVersion("MatchIt") == "4.5.1")

lalonde <- read.csv("datasets/lalonde.csv")
nhefs <- read.csv("datasets/nhefs.csv")
nhefs <- nhefs[!is.na(nhefs$wt82_71), ]
rownames(nhefs) <- NULL

set.seed(20261128)
n <- 500
x1 <- round(rnorm(n), 6); x2 <- round(rnorm(n), 6); x3 <- rbinom(n, 1, 0.4)
a <- rbinom(n, 1, plogis(0.9 + 0.8 * x1 - 0.5 * x2 + 0.4 * x3))
y <- round(1 + 2 * a + x1 + x2 - x3 + 0.5 * a * x1 + rnorm(n), 6)
sim <- data.frame(y = y, a = a, x1 = x1, x2 = x2, x3 = x3)

sets <- list(
  lalonde = list(df = lalonde, y = "re78", t = "treat", x = c("age", "educ", "black", "hisp", "marr", "nodegree", "re74", "re75")),
  nhefs = list(df = nhefs, y = "wt82_71", t = "qsmk",
               x = c("sex", "race", "age", "education", "smokeintensity", "smokeyrs", "exercise", "active", "wt71")),
  sim = list(df = sim, y = "y", t = "a", x = c("x1", "x2", "x3"))
)

cases <- list()
add <- function(data, estimand, distance, ratio, caliper = NULL) {
  s <- sets[[data]]
  f <- reformulate(s$x, response = s$t)
  args <- list(formula = f, data = s$df, method = "nearest", replace = FALSE, ratio = ratio, estimand = estimand)
  if (distance == "mahalanobis" && !is.null(caliper)) {
    args$distance <- "glm"
    args$mahvars <- reformulate(s$x)
  } else {
    args$distance <- if (distance == "propensity") "glm" else "mahalanobis"
  }
  if (!is.null(caliper)) { args$caliper <- caliper; args$std.caliper <- TRUE }
  if (distance == "propensity") {
    m0 <- matchit(f, data = s$df, method = NULL, distance = "glm", estimand = estimand)
    ps <- m0$distance
    tt <- setNames(as.integer(s$df[[s$t]] == (estimand == "ATT")), rownames(s$df))
    ord <- order(ps[tt == 1], decreasing = estimand == "ATT")
    cal <- if (is.null(caliper)) NULL else caliper * sd(ps)
    mm <- MatchIt:::nn_matchC(tt, ord, rep(as.integer(ratio), sum(tt)), rep(FALSE, length(tt)), 1L, ps,
                              NULL, NULL, cal, NULL, NULL, NULL, NULL, NULL, FALSE)
    w <- MatchIt:::weights.matrix(mm, tt)
    sub <- MatchIt:::mm2subclass(mm, tt)
    md <- s$df
    md$weights <- unname(w); md$subclass <- unname(sub)
    md <- md[md$weights > 0, ]
    m <- list(weights = w, match.matrix = MatchIt:::nummm2charmm(mm, tt))
  } else {
    m <- suppressWarnings(do.call(matchit, args))
    md <- match.data(m)
  }
  fit <- lm(reformulate(s$t, response = s$y), data = md, weights = weights)
  V <- vcovCL(fit, cluster = ~subclass)
  mm <- m$match.matrix
  sets_ <- lapply(seq_len(nrow(mm)), function(i) {
    v <- match(mm[i, ], rownames(s$df)) - 1L
    v[is.na(v)] <- -1L
    v
  })
  focal <- match(rownames(mm), rownames(s$df)) - 1L
  name <- sprintf("%s %s %s ratio %d%s", data, estimand, distance, ratio,
                  if (is.null(caliper)) "" else sprintf(" caliper %g", caliper))
  cases[[length(cases) + 1]] <<- list(
    name = name, data = data,
    args = list(estimand = estimand, distance = distance, ratio = ratio, caliper = caliper),
    expected = list(
      estimate = unname(coef(fit)[2]), std_error = sqrt(V[2, 2]),
      n_matched = nrow(md), n_focal_matched = sum(rowSums(!is.na(mm)) > 0),
      focal = focal, matches = sets_,
      weights = unname(m$weights)
    )
  )
}

add("lalonde", "ATT", "propensity", 1)
add("lalonde", "ATT", "propensity", 1, 0.1)
add("lalonde", "ATT", "mahalanobis", 1)
add("lalonde", "ATT", "mahalanobis", 1, 0.2)
add("nhefs", "ATT", "propensity", 1)
add("nhefs", "ATT", "propensity", 2)
add("nhefs", "ATT", "propensity", 2, 0.05)
add("nhefs", "ATT", "mahalanobis", 1)
add("nhefs", "ATT", "mahalanobis", 2)
add("nhefs", "ATT", "mahalanobis", 2, 0.1)
add("sim", "ATC", "propensity", 1)
add("sim", "ATC", "propensity", 2)
add("sim", "ATC", "propensity", 1, 0.1)
add("sim", "ATC", "mahalanobis", 1)
add("sim", "ATC", "mahalanobis", 2, 0.2)

out <- list(
  software = sprintf("R %s, MatchIt %s, sandwich %s", getRversion(), packageVersion("MatchIt"), packageVersion("sandwich")),
  sim = list(data = sim, covariates = c("x1", "x2", "x3")),
  cases = cases
)
write_json(out, "tests/reference/causal_matching.json", digits = NA, auto_unbox = TRUE, pretty = FALSE, null = "null")
cat(sprintf("%d cases written\n", length(cases)))
for (c in cases) cat(sprintf("%-45s %12.6f %10.6f  n=%d focal=%d\n", c$name, c$expected$estimate, c$expected$std_error, c$expected$n_matched, c$expected$n_focal_matched))
