# Reference values for causalinfer.stats.lmm: lme4::lmer (REML and ML) with lmerTest's Satterthwaite degrees of
# freedom for the fixed effects.  Run from the repository root:  Rscript tests/reference/mixed.R
suppressMessages({library(lme4); library(lmerTest)})
library(jsonlite)
set.seed(20261129)
data(sleepstudy, package = "lme4")
G <- 25; m <- sample(3:9, G, replace = TRUE)
g <- rep(sprintf("g%02d", 1:G), m)
x <- round(rnorm(sum(m)), 3); z <- round(runif(sum(m)), 3)
b0 <- rnorm(G, sd = 0.8); b1 <- rnorm(G, sd = 0.4)
y <- round(1 + 0.5 * x - 0.3 * z + b0[as.integer(factor(g))] + b1[as.integer(factor(g))] * x + rnorm(sum(m), sd = 0.7), 3)
sim <- data.frame(y = y, x = x, z = z, g = g)
fits <- list(
  list(name = "sleep slopes", data = "sleepstudy", formula = Reaction ~ Days + (Days | Subject), fixed = "Reaction ~ Days", group = "Subject", re = "~Days"),
  list(name = "sleep intercept", data = "sleepstudy", formula = Reaction ~ Days + (1 | Subject), fixed = "Reaction ~ Days", group = "Subject", re = "~1"),
  list(name = "sim slopes", data = "sim", formula = y ~ x + z + (x | g), fixed = "y ~ x + z", group = "g", re = "~x"),
  list(name = "sim intercept", data = "sim", formula = y ~ x + z + (1 | g), fixed = "y ~ x + z", group = "g", re = "~1")
)
cases <- list()
for (f in fits) {
  d <- if (f$data == "sim") sim else sleepstudy
  for (reml in c(TRUE, FALSE)) {
    fit <- lmer(f$formula, data = d, REML = reml, control = lmerControl(optCtrl = list(xtol_abs = 1e-12, ftol_abs = 1e-14)))
    co <- summary(fit)$coefficients
    vc <- as.data.frame(VarCorr(fit))
    cases[[length(cases) + 1]] <- list(
      name = paste(f$name, if (reml) "REML" else "ML"), data = f$data, fixed = f$fixed, group = f$group, re = f$re, reml = reml,
      terms = rownames(co), estimate = unname(co[, "Estimate"]), se = unname(co[, "Std. Error"]), df = unname(co[, "df"]),
      t = unname(co[, "t value"]), p = unname(co[, "Pr(>|t|)"]), theta = unname(getME(fit, "theta")), sigma = sigma(fit),
      vc_name = paste(vc$var1, vc$var2), vc_var = vc$vcov, vc_sd = vc$sdcor, loglik = as.numeric(logLik(fit)),
      deviance = if (reml) unname(REMLcrit(fit)) else unname(deviance(fit)), aic = AIC(fit),
      ranef = unname(as.matrix(ranef(fit)[[1]])), ranef_levels = rownames(ranef(fit)[[1]]),
      fitted = unname(fitted(fit)), fixed_part = unname(predict(fit, re.form = NA))
    )
  }
}
out <- list(generated_by = "tests/reference/mixed.R", r_version = R.version.string,
            lme4_version = as.character(packageVersion("lme4")), lmerTest_version = as.character(packageVersion("lmerTest")),
            data = list(sleepstudy = sleepstudy, sim = sim), cases = cases)
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, null = "null", pretty = FALSE, dataframe = "columns", matrix = "rowmajor"),
           "tests/reference/mixed.json")
