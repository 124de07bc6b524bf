# Reference values for causalinfer.stats.quantreg: quantreg::rq (Barrodale-Roberts) and summary.rq with
# se = "iid", "nid", "ker", "rank" (rank-inversion intervals, iid = TRUE and FALSE) and "boot" (xy-pair bootstrap
# with the resampling indices written out, so the bootstrap covariance can be compared draw for draw).
# Run from the repository root:  Rscript tests/reference/quantreg.R
suppressMessages(library(quantreg))
library(jsonlite)
data(engel)
set.seed(20261129)
n <- 150
x1 <- round(rnorm(n), 4); x2 <- round(runif(n, 0, 3), 4)
g <- sample(c("a", "b", "c"), n, replace = TRUE)
y <- round(1 + 0.5 * x1 - 0.8 * x2 + (g == "b") * 0.7 + (1 + 0.5 * x2) * rt(n, df = 5), 4)
sim <- data.frame(y = y, x1 = x1, x2 = x2, g = g)
datasets <- list(
  engel = list(data = engel, formula = foodexp ~ income),
  stackloss = list(data = stackloss, formula = stack.loss ~ Air.Flow + Water.Temp + Acid.Conc.),
  sim = list(data = sim, formula = y ~ x1 + x2 + g)
)
taus <- c(0.1, 0.25, 0.5, 0.75, 0.9)
cases <- list()
for (nm in names(datasets)) {
  d <- datasets[[nm]]
  for (tau in taus) {
    if (nm == "stackloss" && tau != 0.5 && tau != 0.25) next
    fit <- rq(d$formula, tau = tau, data = d$data, method = "br")
    s <- function(se, ...) unname(summary(fit, se = se, ...)$coefficients)
    iid <- s("iid"); nid <- s("nid"); ker <- s("ker")
    rank90 <- s("rank"); rank95 <- s("rank", alpha = 0.05)
    rank_nid <- s("rank", alpha = 0.05, iid = FALSE)
    cases[[length(cases) + 1]] <- list(
      name = paste(nm, tau), dataset = nm, formula = deparse(d$formula), tau = tau,
      terms = names(coef(fit)), coef = unname(coef(fit)), objective = sum(fit$rho),
      iid_se = iid[, 2], iid_t = iid[, 3], iid_p = iid[, 4], nid_se = nid[, 2], nid_p = nid[, 4], ker_se = ker[, 2],
      rank90_low = rank90[, 2], rank90_high = rank90[, 3], rank95_low = rank95[, 2], rank95_high = rank95[, 3],
      rank95_nid_low = rank_nid[, 2], rank95_nid_high = rank_nid[, 3]
    )
  }
}
# xy-pair bootstrap with given indices (R = 60) on engel at tau = 0.5 and sim at tau = 0.25
boots <- list()
for (b in list(list("engel", 0.5), list("sim", 0.25))) {
  d <- datasets[[b[[1]]]]
  fit <- rq(d$formula, tau = b[[2]], data = d$data)
  X <- model.matrix(d$formula, d$data)
  U <- matrix(sample(nrow(X), nrow(X) * 60, replace = TRUE), nrow(X), 60)
  # summary.rq(se = "boot") keeps its own `U` argument, so call boot.rq (what it calls) with the indices directly
  B <- boot.rq(X, d$data[[all.vars(d$formula)[1]]], tau = b[[2]], U = U)$B
  boots[[length(boots) + 1]] <- list(
    dataset = b[[1]], tau = b[[2]], indices = U - 1L, se = sqrt(diag(cov(B))), cov = unname(cov(B)), draws = unname(B)
  )
}
out <- list(
  generated_by = "tests/reference/quantreg.R", r_version = R.version.string,
  quantreg_version = as.character(packageVersion("quantreg")),
  data = list(engel = engel, stackloss = stackloss, sim = sim), cases = cases, boot = boots
)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = FALSE, dataframe = "columns"), "tests/reference/quantreg.json")
