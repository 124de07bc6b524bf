# Reference values for causalinfer.designs.rdd: hand-written kernel-weighted local polynomial fits in R
# (lm with weights for sharp designs, AER::ivreg with weights for fuzzy ones) and sandwich covariances.
# Run from the repository root:  Rscript tests/reference/rdd.R
suppressPackageStartupMessages({library(AER); library(sandwich); library(lmtest); library(jsonlite)})
set.seed(314)
n <- 600
x <- round(runif(n, -1, 1), 5)
g <- sample(1:40, n, replace = TRUE)
above <- as.integer(x >= 0)
z1 <- round(0.5 * x + rnorm(n), 4)
d <- as.integer(runif(n) < 0.2 + 0.6 * above)
y <- round(1 + 0.8 * x - 0.5 * x^2 + 1.2 * above + rnorm(n, sd = 0.5 + 0.3 * abs(x)), 4)
yf <- round(0.5 + 0.6 * x + 2 * d + rnorm(n, sd = 0.6), 4)
sim <- data.frame(x = x, y = y, yf = yf, d = d, z1 = z1, g = g)
cutoff <- 0.1

kern <- function(u, k) switch(k,
  triangular = pmax(1 - abs(u), 0), uniform = as.numeric(abs(u) <= 1), epanechnikov = pmax(0.75 * (1 - u^2), 0))

fit_case <- function(name, yv, h, k, p, fuzzy = FALSE, type = "HC1") {
  xc <- sim$x - cutoff
  w <- kern(xc / h, k)
  keep <- w > 0
  dat <- data.frame(y = sim[[yv]][keep], xc = xc[keep], w = w[keep], T = as.integer(xc[keep] >= 0), d = sim$d[keep], g = sim$g[keep])
  poly_terms <- if (p > 0) c(sprintf("I(xc^%d)", 1:p), sprintf("I(T * xc^%d)", 1:p)) else character(0)
  ctl <- if (length(poly_terms)) paste("+", paste(poly_terms, collapse = " + ")) else ""
  if (!fuzzy) {
    fit <- lm(as.formula(paste("y ~ T", ctl)), data = dat, weights = w)
    which <- "T"
  } else {
    fit <- ivreg(as.formula(paste("y ~ d", ctl, "| T", ctl)), data = dat, weights = w)
    which <- "d"
  }
  V <- switch(type, classical = vcov(fit), HC1 = vcovHC(fit, type = "HC1"), cluster = vcovCL(fit, cluster = dat$g, type = "HC1"))
  ct <- coeftest(fit, vcov. = V)
  ci <- confint(ct)
  list(name = name, outcome = yv, bandwidth = h, kernel = k, order = p, fuzzy = fuzzy, cov_type = type,
       expected = list(coef = unname(ct[, 1]), se = unname(ct[, 2]), t = unname(ct[, 3]), p = unname(ct[, 4]),
                       ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]), df = fit$df.residual,
                       n_below = sum(dat$T == 0), n_above = sum(dat$T == 1)))
}

cases <- list()
for (k in c("triangular", "uniform", "epanechnikov")) {
  for (p in 0:2) {
    cases[[length(cases) + 1]] <- fit_case(sprintf("sharp_%s_p%d", k, p), "y", 0.45, k, p)
  }
  cases[[length(cases) + 1]] <- fit_case(sprintf("fuzzy_%s_p1", k), "yf", 0.6, k, 1, fuzzy = TRUE)
}
cases[[length(cases) + 1]] <- fit_case("sharp_triangular_classical", "y", 0.3, "triangular", 1, type = "classical")
cases[[length(cases) + 1]] <- fit_case("sharp_uniform_cluster", "y", 0.3, "uniform", 1, type = "cluster")
cases[[length(cases) + 1]] <- fit_case("fuzzy_triangular_cluster", "yf", 0.5, "triangular", 2, fuzzy = TRUE, type = "cluster")
cases[[length(cases) + 1]] <- fit_case("balance_z1", "z1", 0.45, "epanechnikov", 1)

# Lee, Moretti and Butler (2004): means within two points of the cutoff (Table I)
lmb <- read.csv("datasets/close_elections_lmb.csv")
win <- lmb[lmb$lagdemvoteshare > 0.48 & lmb$lagdemvoteshare < 0.52, ]
lmb_fit <- function(v) {
  f <- lm(as.formula(paste(v, "~ lagdemocrat")), data = win)
  V <- vcovHC(f, type = "HC1")
  list(coef = unname(coef(f)[2]), se = unname(sqrt(V[2, 2])), n = nrow(win))
}
out <- list(generated_by = "tests/reference/rdd.R", r_version = R.version.string, cutoff = cutoff,
            sim = as.list(sim), cases = cases, lmb = list(score = lmb_fit("score"), democrat = lmb_fit("democrat")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/rdd.json")

# ---- Imbens-Kalyanaraman (2012) bandwidth, written out by hand from the paper's algorithm (section 4.2)
ik <- function(x, y, ck) {
  n <- length(x)
  h1 <- 1.84 * sd(x) * n^(-1 / 5)
  lo <- x < 0 & x >= -h1; hi <- x >= 0 & x <= h1
  f <- (sum(lo) + sum(hi)) / (2 * n * h1)
  s2lo <- var(y[lo]); s2hi <- var(y[hi])
  mid <- x >= median(x[x < 0]) & x <= median(x[x >= 0])
  xm <- x[mid]; ym <- y[mid]
  m3 <- 6 * coef(lm(ym ~ I(xm >= 0) + xm + I(xm^2) + I(xm^3)))[5]
  h2lo <- 3.56 * (s2lo / (f * m3^2))^(1 / 7) * sum(x < 0)^(-1 / 7)
  h2hi <- 3.56 * (s2hi / (f * m3^2))^(1 / 7) * sum(x >= 0)^(-1 / 7)
  sl <- x < 0 & x >= -h2lo; sh <- x >= 0 & x <= h2hi
  m2lo <- 2 * coef(lm(y[sl] ~ x[sl] + I(x[sl]^2)))[3]
  m2hi <- 2 * coef(lm(y[sh] ~ x[sh] + I(x[sh]^2)))[3]
  rlo <- 2160 * s2lo / (sum(sl) * h2lo^4); rhi <- 2160 * s2hi / (sum(sh) * h2hi^4)
  unname(ck * ((s2lo + s2hi) / (f * ((m2hi - m2lo)^2 + rlo + rhi)))^(1 / 5) * n^(-1 / 5))
}
out$ik <- list(
  sim_triangular = ik(sim$x - cutoff, sim$y, 3.4375),
  lmb_triangular = ik(lmb$lagdemvoteshare - 0.5, lmb$score, 3.4375),
  constant = 3.4375
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/rdd.json")

# ---- McCrary (2008) density test written out by hand: histogram with bins of width 2 sd n^(-1/2) aligned at the
# cutoff, quartic fits for the bandwidth, triangular local-linear fits of bin heights on each side
mccrary <- function(x) {
  n <- length(x)
  b <- 2 * sd(x) * n^(-1 / 2)
  k <- floor(x / b)
  full <- seq(min(k), max(k))
  height <- sapply(full, function(j) sum(k == j)) / (n * b)
  mids <- (full + 0.5) * b
  left <- mids < 0; right <- mids > 0
  hs <- c()
  for (side in list(list(m = left, span = -min(x)), list(m = right, span = max(x)))) {
    xm <- mids[side$m]; ym <- height[side$m]
    fit <- lm(ym ~ xm + I(xm^2) + I(xm^3) + I(xm^4))
    cf <- coef(fit)
    f2 <- 2 * cf[3] + 6 * cf[4] * xm + 12 * cf[5] * xm^2
    hs <- c(hs, 3.348 * (mean(residuals(fit)^2) * side$span / sum(f2^2))^(1 / 5))
  }
  h <- mean(hs)
  est <- c()
  for (m in list(left, right)) {
    w <- pmax(1 - abs(mids[m] / h), 0)
    keep <- w > 0
    xx <- mids[m][keep]; yy <- height[m][keep]
    est <- c(est, unname(coef(lm(yy ~ xx, weights = w[keep]))[1]))
  }
  theta <- log(est[2]) - log(est[1])
  se <- sqrt((1 / (n * h)) * (24 / 5) * (1 / est[2] + 1 / est[1]))
  list(theta = theta, se = se, bandwidth = h, bin_width = b, density_below = est[1], density_above = est[2])
}
set.seed(8)
bunch <- round(c(rnorm(3000), runif(250, 0, 0.1)), 6)
out$mccrary <- list(sim = mccrary(sim$x - cutoff), lmb = mccrary(lmb$lagdemvoteshare - 0.5), bunch_x = bunch, bunch = mccrary(bunch))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/rdd.json")
