# Reference values for causalinfer.designs.iv_2sls / wald_estimator from AER::ivreg with sandwich covariances.
# Run from the repository root:  Rscript tests/reference/iv.R
suppressPackageStartupMessages({library(AER); library(sandwich); library(lmtest); library(jsonlite)})
set.seed(20261128)
n <- 240
g <- rep(1:30, each = 8)
u_g <- rnorm(30)[g]
w1 <- round(rnorm(n), 4)
w2 <- rbinom(n, 1, 0.4)
z1 <- round(rnorm(n) + 0.3 * u_g, 4)
z2 <- rbinom(n, 1, 0.5)
zb <- rbinom(n, 1, 0.5)
v <- rnorm(n)
d <- round(0.6 * z1 + 0.5 * z2 + 0.3 * w1 + v + 0.5 * u_g, 4)
db <- as.integer(0.8 * zb + v + 0.3 * u_g > 0.6)
y <- round(1 + 0.7 * d - 0.4 * w1 + 0.3 * w2 + 0.8 * v + u_g + rnorm(n) * (1 + abs(w1)), 4)
yb <- round(1 + 1.5 * db + 0.8 * v + u_g + rnorm(n), 4)
wt <- round(runif(n, 0.5, 2), 4)
sim <- data.frame(y = y, d = d, w1 = w1, w2 = w2, z1 = z1, z2 = z2, g = g, wt = wt, yb = yb, db = db, zb = zb)

vc <- function(fit, type, data) {
  switch(type,
    classical = vcov(fit),
    HC0 = vcovHC(fit, type = "HC0"),
    HC1 = vcovHC(fit, type = "HC1"),
    cluster = vcovCL(fit, cluster = data$g, type = "HC1"))
}

run <- function(name, data, yv, dv, zs, ws, type, weights = NULL) {
  label <- if (identical(data, sim)) "sim" else "close_college"
  rhs_x <- paste(c(dv, ws), collapse = " + ")
  rhs_z <- paste(c(zs, ws), collapse = " + ")
  f <- as.formula(paste(yv, "~", rhs_x, "|", rhs_z))
  data$.w <- if (is.null(weights)) rep(1, nrow(data)) else data[[weights]]
  fit <- ivreg(f, data = data, weights = .w)
  V <- vc(fit, type, data)
  ct <- coeftest(fit, vcov. = V)
  fs_f <- as.formula(paste(dv, "~", paste(c(zs, ws), collapse = " + ")))
  fs_r <- as.formula(paste(dv, "~", if (length(ws)) paste(ws, collapse = " + ") else "1"))
  full <- lm(fs_f, data = data, weights = .w)
  restr <- lm(fs_r, data = data, weights = .w)
  f_classical <- anova(restr, full)$F[2]
  f_robust <- if (type == "classical") NULL else
    waldtest(full, restr, vcov = vc(full, type, data), test = "F")$F[2]
  fs_ct <- coeftest(full, vcov. = vc(full, type, data))
  sargan <- NULL
  if (length(zs) > 1) {
    sm <- summary(fit, diagnostics = TRUE)
    sargan <- unname(sm$diagnostics["Sargan", "statistic"])
  }
  ci <- confint(ct)
  list(
    name = name, outcome = yv, treatment = dv, instruments = zs, covariates = ws, cov_type = type,
    weights = weights, data = label,
    expected = list(
      coef = unname(ct[, 1]), se = unname(ct[, 2]), t = unname(ct[, 3]), p = unname(ct[, 4]),
      ci_low = unname(ci[, 1]), ci_high = unname(ci[, 2]), df = fit$df.residual,
      first_stage_coef = unname(fs_ct[, 1]), first_stage_se = unname(fs_ct[, 2]),
      f_classical = f_classical, f_robust = f_robust, sargan = sargan
    )
  )
}

card <- read.csv("datasets/close_college.csv")
cc <- c("exper", "black", "south", "married", "smsa")
cases <- list()
for (type in c("classical", "HC0", "HC1", "cluster")) {
  cases[[length(cases) + 1]] <- run(paste0("just_", type), sim, "y", "d", "z1", c("w1", "w2"), type)
  cases[[length(cases) + 1]] <- run(paste0("over_", type), sim, "y", "d", c("z1", "z2"), c("w1", "w2"), type)
}
cases[[length(cases) + 1]] <- run("nocov_HC1", sim, "y", "d", "z1", character(0), "HC1")
cases[[length(cases) + 1]] <- run("weighted_HC1", sim, "y", "d", c("z1", "z2"), c("w1"), "HC1", weights = "wt")
cases[[length(cases) + 1]] <- run("weighted_cluster", sim, "y", "d", "z1", c("w1", "w2"), "cluster", weights = "wt")
cases[[length(cases) + 1]] <- run("wald_HC1", sim, "yb", "db", "zb", character(0), "HC1")
cases[[length(cases) + 1]] <- run("wald_cluster", sim, "yb", "db", "zb", character(0), "cluster")
for (type in c("classical", "HC1")) {
  cases[[length(cases) + 1]] <- run(paste0("card_", type), card, "lwage", "educ", "nearc4", cc, type)
}
out <- list(generated_by = "tests/reference/iv.R", r_version = R.version.string,
            packages = list(AER = as.character(packageVersion("AER")), sandwich = as.character(packageVersion("sandwich"))),
            sim = as.list(sim), cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = TRUE), "tests/reference/iv.json")
