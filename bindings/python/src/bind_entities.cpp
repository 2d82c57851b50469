// The value types of rxcaution/entities.hpp as read-only Python classes. Every attribute read
// returns a copy, so an entity never refers into a KnowledgeBase.

#include "bindings.hpp"

#include <rxcaution/entities.hpp>

namespace rxcaution::python {

void bind_entities(py::module_& m) {
    ValueClass<Citation>(m, "Citation", "A reference from a fact to a source, with the place in the source.")
        .field("source", &Citation::source, "Id of a :class:`Source`.")
        .field("section", &Citation::section, "Label section or table, e.g. ``§7.1``, ``BOXED`` (may be empty).")
        .field("grade", &Citation::grade, "Evidence grade of this citation (:class:`EvidenceGrade`).")
        .field("note", &Citation::note, "Free text (may be empty).")
        .repr({"source", "section", "grade"})
        .finish();

    ValueClass<Source>(m, "Source", "A document facts are drawn from.")
        .field("id", &Source::id, "Stable id (lowercase slug).")
        .field("title", &Source::title, "Title of the document.")
        .field("publisher", &Source::publisher, "Who published it (may be empty).")
        .field("date", &Source::date, "Date or revision string as printed (may be empty).")
        .field("url", &Source::url, "Only a URL that was actually seen (may be empty).")
        .field("setid", &Source::setid, "DailyMed SPL set id, only where verified (may be empty).")
        .field("kind", &Source::kind, "``label``, ``label-mirror``, ``regulator``, ``review``, ``web``, ...")
        .field("grade", &Source::grade, "Default evidence grade of facts from this source.")
        .field("notes", &Source::notes, "Free text (may be empty).")
        .repr({"id", "title", "grade"})
        .finish();

    ValueClass<Identifiers>(m, "Identifiers", "Verified external identifiers. Empty fields are unknown, never guessed.")
        .field("rxcui", &Identifiers::rxcui, "RxNorm concept (the ingredient concept for substances).")
        .field("rxcui_products", &Identifiers::rxcui_products, "Product-level RxCUIs.")
        .field("atc", &Identifiers::atc, "WHO ATC codes.")
        .field("unii", &Identifiers::unii, "FDA UNII of the base.")
        .field("salt_unii", &Identifiers::salt_unii, "Salt word -> UNII of that salt.")
        .field("drugbank", &Identifiers::drugbank, "DrugBank accession.")
        .field("setid", &Identifiers::setid, "DailyMed set id (products).")
        .repr({"rxcui", "atc", "unii", "drugbank"})
        .finish();

    ValueClass<Substance>(m, "Substance", "An active ingredient, food, beverage or illicit substance.")
        .field("id", &Substance::id, "Stable id (lowercase slug, the US generic name).")
        .field("name", &Substance::name, "Display name.")
        .field("synonyms", &Substance::synonyms, "Other names people type.")
        .field("salts", &Substance::salts, "Salt or ester words, e.g. ``hydrochloride``.")
        .field("kind", &Substance::kind, "``drug``, ``illicit``, ``food``, ``supplement`` or ``beverage``.")
        .field("identifiers", &Substance::identifiers, "Verified external identifiers (:class:`Identifiers`).")
        .field("identifier_sources", &Substance::identifier_sources, "Citations backing the identifiers.")
        .field("notes", &Substance::notes, "Free text (may be empty).")
        .repr({"id", "name", "kind"})
        .finish();

    ValueClass<InactiveIngredient>(m, "InactiveIngredient",
                                   "An ingredient of a product that, by the product's route, is not systemically active "
                                   "enough to interact (e.g. sublingual naloxone in buprenorphine/naloxone). It is listed "
                                   "among the product's ingredients but is not checked for interactions.")
        .field("substance", &InactiveIngredient::substance, "Substance id.")
        .field("note", &InactiveIngredient::note, "Why it is not checked.")
        .field("sources", &InactiveIngredient::sources, "Citations.")
        .repr({"substance"})
        .finish();

    ValueClass<Product>(m, "Product", "A brand or combination product; resolves to its ingredient substances.")
        .field("id", &Product::id, "Stable id (lowercase slug).")
        .field("name", &Product::name, "Display name (the brand).")
        .field("synonyms", &Product::synonyms, "Other spellings.")
        .field("ingredients", &Product::ingredients, "Substance ids of the ingredients.")
        .field("inactive_ingredients", &Product::inactive_ingredients,
               "Ingredients not checked for interactions (:class:`InactiveIngredient`).")
        .field("route", &Product::route, "Route of administration (may be empty).")
        .field("form", &Product::form, "Dosage form (may be empty).")
        .field("identifiers", &Product::identifiers, "Verified external identifiers (:class:`Identifiers`).")
        .field("identifier_sources", &Product::identifier_sources, "Citations backing the identifiers.")
        .field("sources", &Product::sources, "Citations that the brand contains these ingredients.")
        .field("notes", &Product::notes, "Free text (may be empty).")
        .repr({"id", "name", "ingredients"})
        .finish();

    ValueClass<ClassMember>(m, "ClassMember", "One sourced membership of a substance in a class.")
        .field("substance", &ClassMember::substance, "Substance id.")
        .field("strength", &ClassMember::strength,
               "``strong``, ``moderate``, ``weak``, ``ungraded`` (CYP classes), else empty.")
        .field("note", &ClassMember::note, "Free text (may be empty).")
        .field("sources", &ClassMember::sources, "Citations for the membership.")
        .repr({"substance", "strength"})
        .finish();

    ValueClass<DuplicateTherapyPolicy>(m, "DuplicateTherapyPolicy",
                                       "Declares that two different inputs from one class are a duplicate therapy.")
        .field("severity", &DuplicateTherapyPolicy::severity, "Severity of the duplicate-therapy warning.")
        .field("management", &DuplicateTherapyPolicy::management, "Recommended action.")
        .field("sources", &DuplicateTherapyPolicy::sources, "Citations.")
        .repr({"severity"})
        .finish();

    ValueClass<DrugClass>(m, "DrugClass", "A drug class; classes form a DAG through ``parents``.")
        .field("id", &DrugClass::id, "Stable id (lowercase slug).")
        .field("name", &DrugClass::name, "Display name.")
        .field("description", &DrugClass::description, "What the class means for interactions (may be empty).")
        .field("parents", &DrugClass::parents, "Ids of the parent classes.")
        .field("members", &DrugClass::members, "Direct members only (:class:`ClassMember`).")
        .field("duplicate_therapy", &DrugClass::duplicate_therapy,
               "The duplicate-therapy policy of the class, or ``None``.")
        .repr({"id", "name", "parents"})
        .finish();

    ValueClass<Symptom>(m, "Symptom", "A symptom of a syndrome, with sources.")
        .field("name", &Symptom::name, "The symptom.")
        .field("sources", &Symptom::sources, "Citations.")
        .repr({"name"})
        .finish();

    ValueClass<ConditionCode>(m, "ConditionCode", "A code of a patient condition in a public code system, with its sources.")
        .field("system", &ConditionCode::system, "``icd-10-cm`` or ``snomed-ct``.")
        .field("code", &ConditionCode::code, "The code, e.g. ``F11.2``.")
        .field("display", &ConditionCode::display, "The code system's title for it (may be empty).")
        .field("sources", &ConditionCode::sources, "Citations.")
        .repr({"system", "code"})
        .finish();

    ValueClass<Condition>(m, "Condition", "A patient condition; conditions form a DAG through ``parents``.")
        .field("id", &Condition::id, "Stable id (lowercase slug).")
        .field("name", &Condition::name, "Display name.")
        .field("synonyms", &Condition::synonyms, "Other names people type.")
        .field("parents", &Condition::parents, "Ids of broader conditions.")
        .field("symptoms", &Condition::symptoms, "Symptoms, for syndromes (:class:`Symptom`).")
        .field("notes", &Condition::notes, "Free text (may be empty).")
        .field("codes", &Condition::codes, "Codes (ICD-10-CM, SNOMED CT) with sources (:class:`ConditionCode`).")
        .repr({"id", "name"})
        .finish();

    ValueClass<Participant>(m, "Participant",
                            "One side of a rule: a substance, a class, or a product (for facts a source states for "
                            "one product only, such as a depot formulation's warning).")
        .field("kind", &Participant::kind, "``EntityKind.SUBSTANCE``, ``CLASS`` or ``PRODUCT``.")
        .field("id", &Participant::id, "Id of the entity.")
        .finish();

    ValueClass<Mechanism>(m, "Mechanism", "How an interaction happens.")
        .field("type", &Mechanism::type,
               "``pharmacokinetic``, ``pharmacodynamic``, ``pharmacokinetic-and-pharmacodynamic`` or ``unknown``.")
        .field("detail", &Mechanism::detail, "Free text (may be empty).")
        .repr({"type"})
        .finish();

    ValueClass<InteractionRule, std::shared_ptr<InteractionRule>>(m, "InteractionRule", "A drug-drug interaction rule (PDDI minimum information model).")
        .field("id", &InteractionRule::id, "Stable id (lowercase slug).")
        .field("first", &InteractionRule::first, "First participant (:class:`Participant`).")
        .field("second", &InteractionRule::second, "Second participant (:class:`Participant`).")
        .field("severity", &InteractionRule::severity, "Severity (:class:`Severity`).")
        .field("summary", &InteractionRule::summary, "One line for a clinician.")
        .field("effect", &InteractionRule::effect, "Clinical consequences.")
        .field("mechanism", &InteractionRule::mechanism, "How it happens (:class:`Mechanism`).")
        .field("management", &InteractionRule::management, "Recommended action.")
        .field("evidence", &InteractionRule::evidence, "Best evidence grade among the sources.")
        .field("seriousness", &InteractionRule::seriousness,
               "Where the label puts it: ``boxed``, ``contraindication``, ``warnings``, ... (may be empty).")
        .field("severity_basis", &InteractionRule::severity_basis, "How the severity was chosen (may be empty).")
        .field("sources", &InteractionRule::sources, "Citations (at least one).")
        .field("disagreement", &InteractionRule::disagreement, "A disagreement between sources (may be empty).")
        .field("notes", &InteractionRule::notes, "Free text (may be empty).")
        .field("supersedes", &InteractionRule::supersedes,
               "Ids of more general rules this one replaces when both apply to the same two inputs.")
        .repr({"id", "first", "second", "severity"})
        .finish();

    ValueClass<ContraindicationRule, std::shared_ptr<ContraindicationRule>>(m, "ContraindicationRule", "A drug-condition rule.")
        .field("id", &ContraindicationRule::id, "Stable id (lowercase slug).")
        .field("subject", &ContraindicationRule::subject, "The substance, class or product (:class:`Participant`).")
        .field("condition", &ContraindicationRule::condition, "Condition id.")
        .field("severity", &ContraindicationRule::severity, "Severity (:class:`Severity`).")
        .field("summary", &ContraindicationRule::summary, "One line for a clinician.")
        .field("rationale", &ContraindicationRule::rationale, "Why.")
        .field("management", &ContraindicationRule::management, "Recommended action.")
        .field("evidence", &ContraindicationRule::evidence, "Best evidence grade among the sources.")
        .field("seriousness", &ContraindicationRule::seriousness, "Where the label puts it (may be empty).")
        .field("sources", &ContraindicationRule::sources, "Citations (at least one).")
        .field("disagreement", &ContraindicationRule::disagreement, "A disagreement between sources (may be empty).")
        .field("notes", &ContraindicationRule::notes, "Free text (may be empty).")
        .repr({"id", "subject", "condition", "severity"})
        .finish();

    ValueClass<CumulativeRequirement>(m, "CumulativeRequirement",
                                      "One requirement of a cumulative rule: at least ``min`` different medications "
                                      "with an ingredient that is the substance or a member of the class.")
        .field("member", &CumulativeRequirement::member, "The class or substance (:class:`Participant`).")
        .field("min", &CumulativeRequirement::min, "How many different medications (1..16).")
        .repr({"member", "min"})
        .finish();

    ValueClass<DoseThreshold>(m, "DoseThreshold",
                              "A daily dose a source names for one substance of a cumulative rule.")
        .field("substance", &DoseThreshold::substance, "Substance id.")
        .field("above_mg_per_day", &DoseThreshold::above_mg_per_day, "The risk the source names is above this daily dose (mg).")
        .field("note", &DoseThreshold::note, "Free text (may be empty).")
        .field("sources", &DoseThreshold::sources, "Citations (at least one).")
        .repr({"substance", "above_mg_per_day"})
        .finish();

    ValueClass<CumulativeRule>(m, "CumulativeRule",
                               "A risk across a set of medications (e.g. three or more CNS depressants including an opioid).")
        .field("id", &CumulativeRule::id, "Stable id (lowercase slug).")
        .field("requirements", &CumulativeRule::requirements,
               "All must be met (:class:`CumulativeRequirement`); ``requires`` in the pack.")
        .field("conditions", &CumulativeRule::conditions, "Condition ids: one must apply to the patient (empty: none needed).")
        .field("severity", &CumulativeRule::severity, "Severity (:class:`Severity`).")
        .field("summary", &CumulativeRule::summary, "One line for a clinician.")
        .field("effect", &CumulativeRule::effect, "Clinical consequences.")
        .field("mechanism", &CumulativeRule::mechanism, "How it happens (:class:`Mechanism`).")
        .field("management", &CumulativeRule::management, "Recommended action.")
        .field("evidence", &CumulativeRule::evidence, "Evidence grade of the rule.")
        .field("seriousness", &CumulativeRule::seriousness, "Where the label puts it (may be empty).")
        .field("dose_thresholds", &CumulativeRule::dose_thresholds, "Daily doses the sources name (:class:`DoseThreshold`).")
        .field("sources", &CumulativeRule::sources, "Citations (at least one).")
        .field("disagreement", &CumulativeRule::disagreement, "A disagreement between sources (may be empty).")
        .field("notes", &CumulativeRule::notes, "Free text (may be empty).")
        .repr({"id", "severity"})
        .finish();

    ValueClass<Treatment>(m, "Treatment", "A treatment or therapy (medication or not).")
        .field("id", &Treatment::id, "Stable id (lowercase slug).")
        .field("name", &Treatment::name, "Display name.")
        .field("kind", &Treatment::kind,
               "``medication``, ``behavioral-therapy``, ``support``, ``complementary`` or ``lifestyle``.")
        .field("description", &Treatment::description, "Text.")
        .field("substances", &Treatment::substances, "Substance ids (medication treatments).")
        .field("treats", &Treatment::treats, "Condition ids.")
        .field("complements", &Treatment::complements, "Ids of treatments this one is used alongside.")
        .field("sources", &Treatment::sources, "Citations.")
        .repr({"id", "name", "kind"})
        .finish();

    ValueClass<ProfileItem>(m, "ProfileItem", "One sourced statement of a substance profile.")
        .field("id", &ProfileItem::id, "Stable id within the profile.")
        .field("name", &ProfileItem::name, "Short name.")
        .field("description", &ProfileItem::description, "Text.")
        .field("sources", &ProfileItem::sources, "Citations.")
        .repr({"id", "name"})
        .finish();

    ValueClass<Profile>(m, "Profile", "Non-interaction knowledge about a substance (mechanisms, benefits, risks).")
        .field("substance", &Profile::substance, "Substance id.")
        .field("mechanisms", &Profile::mechanisms, "Mechanisms of action (:class:`ProfileItem`).")
        .field("benefits", &Profile::benefits, "Benefits (:class:`ProfileItem`).")
        .field("risks", &Profile::risks, "Risks (:class:`ProfileItem`).")
        .repr({"substance"})
        .finish();

    ValueClass<PackLayer>(m, "PackLayer", "One pack of a layered knowledge base, with how its substances unified.")
        .field("name", &PackLayer::name, "Pack name.")
        .field("version", &PackLayer::version, "Pack version.")
        .field("licence", &PackLayer::licence, "Licence of the pack's content.")
        .field("origin", &PackLayer::origin, "Path loaded from, ``<builtin>`` or ``<memory>``.")
        .field("substances", &PackLayer::substances, "Substances of this pack, as loaded.")
        .field("interactions", &PackLayer::interactions, "Interaction rules of this pack.")
        .field("unified_by_id", &PackLayer::unified_by_id, "Substances unified with an earlier pack's by id.")
        .field("unified_by_identifier", &PackLayer::unified_by_identifier,
               "Substances unified by DrugBank id, UNII or RxCUI.")
        .field("unified_by_name", &PackLayer::unified_by_name, "Substances unified by normalised name or synonym.")
        .field("ambiguous", &PackLayer::ambiguous, "Substances that matched several earlier ones (kept apart).")
        .field("added", &PackLayer::added, "New substances.")
        .field("annotating_rules", &PackLayer::annotating_rules,
               "Rules on pairs an earlier pack covers: they annotate its warnings.")
        .repr({"name", "version", "origin"})
        .finish();

    ValueClass<PackInfo>(m, "PackInfo", "What a pack is, and how much it holds.")
        .field("name", &PackInfo::name, "Pack name.")
        .field("version", &PackInfo::version, "Pack version.")
        .field("format_version", &PackInfo::format_version, "Format version of the pack files.")
        .field("licence", &PackInfo::licence, "Licence of the pack's content.")
        .field("description", &PackInfo::description, "One paragraph (may be empty).")
        .field("origin", &PackInfo::origin, "Path loaded from, ``<builtin>`` or the ``origin`` of from_json.")
        .field("substances", &PackInfo::substances, "Number of substances.")
        .field("products", &PackInfo::products, "Number of products.")
        .field("classes", &PackInfo::classes, "Number of classes.")
        .field("class_memberships", &PackInfo::class_memberships, "Number of direct class memberships.")
        .field("conditions", &PackInfo::conditions, "Number of conditions.")
        .field("interactions", &PackInfo::interactions, "Number of drug-drug rules.")
        .field("contraindications", &PackInfo::contraindications, "Number of drug-condition rules.")
        .field("treatments", &PackInfo::treatments, "Number of treatments.")
        .field("sources", &PackInfo::sources, "Number of sources.")
        .field("compiled_pairs", &PackInfo::compiled_pairs,
               "Substance pairs in the compiled interaction index.")
        .field("layers", &PackInfo::layers,
               "The packs this knowledge base was built from (:class:`PackLayer`), highest priority first.")
        .repr({"name", "version", "origin"})
        .finish();
}

}  // namespace rxcaution::python
