#pragma once
// Layered knowledge bases: several packs merged into one PackData before it is compiled, the
// first pack with the highest priority. Substances unify by id, then by identifier (DrugBank id,
// UNII, RxCUI), then by normalised name; every interaction rule keeps the index of its layer so
// that the compiler (engine.cpp) can turn a lower layer's rule on a pair that a higher layer
// already covers into an annotation of that layer's warning.

#include "detail/pack.hpp"

#include <vector>

namespace rxcaution::detail {

// Describes a pack that is used alone: info.layers holds one entry (itself).
void set_single_layer(PackData& pack);

// Merges `layers` (each a complete, checked pack with info.origin set; at least one) into one
// pack; layers[0] has the highest priority. Fills info.layers (with how each layer's substances
// unified) and interaction_layers.
// Throws IntegrityError naming both packs' origins for every conflict: the same id meaning two
// different things (a substance whose identifiers, kind or names disagree; another entity kind
// reusing an id).
PackData merge_layers(std::vector<PackData> layers);

}  // namespace rxcaution::detail
