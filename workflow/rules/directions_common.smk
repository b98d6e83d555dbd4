# Landscapes along chosen directions: every pair of weights, random filter-normalised planes,
# the initial-to-trained line and the PCA plane of the training path. Each job computes its
# tables and draws its figures in one MLflow run (a second job per figure would double the
# fixed cost of a job, which is most of the time here).

DIRECTION_KINDS = ("weight_pairs", "random_plane", "interpolation", "trajectory_pca")


def direction_targets():
    targets = expand(
        f"{RESULTS}/figures/landscape_{{landscape}}.png",
        landscape=landscapes_of_kind(*DIRECTION_KINDS),
    )
    targets += expand(
        f"{RESULTS}/figures/seed_spread_{{landscape}}.png",
        landscape=landscapes_of_kind("random_plane"),
    )
    targets += expand(
        f"{RESULTS}/tables/{{landscape}}.html", landscape=landscapes_of_kind("weight_pairs")
    )
    return targets


def network_file(name):
    """An input function: results/models/{network}/{name} of the landscape's network."""
    return lambda wc: f"{RESULTS}/models/{landscape_network(wc.landscape)}/{name}"


def landscape_data(wc):
    return f"{RESULTS}/data/{network_dataset(landscape_network(wc.landscape))}.parquet"
