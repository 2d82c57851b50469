#pragma once
// Parsing RxNorm-style display strings (the names of RxNorm's SCD, SBD, SCDF, SBDF, SCDC, GPCK and
// BPCK term types) into ingredient names and a brand, so that an EHR's medication string resolves
// to its ingredients even when the pack has no product entry for it:
//   alprazolam 0.5 MG Oral Tablet [Xanax]
//   acetaminophen 325 MG / oxycodone hydrochloride 5 MG Oral Tablet
//   72 HR fentanyl 0.025 MG/HR Transdermal System
//   {30 (buprenorphine 8 MG / naloxone 2 MG Sublingual Tablet) } Pack
//   {2 (dasabuvir 250 MG Oral Tablet) / 2 (ombitasvir 12.5 MG / ... Oral Tablet) } Pack [Viekira Pak]
// One pass over the text, so a hostile input costs linear time.

#include <optional>
#include <string_view>
#include <vector>

namespace rxcaution::detail {

struct RxnormName {
    std::vector<std::string_view> ingredients;  // as written (salts and all), in order, without repeats
    std::string_view brand;                     // the last bracketed brand, or empty
    bool pack = false;                          // a `{...} Pack`
    bool strength = false;                      // at least one strength ("5 MG", "0.025 MG/HR")
};

// Most ingredients a parse returns; a text naming more is not taken as an RxNorm name.
inline constexpr std::size_t kMaxRxnormIngredients = 32;

// The parse of `text`, or nullopt when it does not have the shape of an RxNorm name (a plain word
// such as "warfarin" is not one: it needs a strength, a dose form, a brand in brackets, a pack or
// two ingredients joined by " / ").
std::optional<RxnormName> parse_rxnorm_name(std::string_view text);

}  // namespace rxcaution::detail
