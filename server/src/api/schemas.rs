//! The OpenAPI document's types for the library's own files (the model, settings, plan and every
//! result): taken from the same `schemars` schemas the library derives next to serde, not copied,
//! so a client generated from `/openapi.json` learns the fields serde reads and writes.

use std::borrow::Cow;
use std::marker::PhantomData;

use schemars::gen::{SchemaGenerator, SchemaSettings};
use schemars::schema::{Schema as JsonSchemaNode, SchemaObject, SingleOrVec};
use schemars::visit::{visit_schema_object, Visitor};
use schemars::JsonSchema;
use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// A library type `T` as an OpenAPI component named as `schemars` names it: the fields use
/// `#[schema(value_type = Schemars<T>)]`, and its definitions join the document's components.
pub struct Schemars<T>(PhantomData<T>);

/// The generator every component comes from: JSON Schema as OpenAPI 3.1 reads it, with references
/// into `#/components/schemas/`, a reference with siblings (a default, a description) wrapped in
/// `allOf` (the draft-07 form, which `utoipa` keeps whole).
fn generator() -> SchemaGenerator {
    SchemaSettings::draft07()
        .with(|s| {
            s.definitions_path = "#/components/schemas/".into();
            s.meta_schema = None;
        })
        .with_visitor(ForClientGenerators)
        .into_generator()
}

/// Writes a tuple (`(String, f64)`: draft-07's `items: [a, b]`) as JSON Schema 2020-12 and
/// OpenAPI 3.1 do: `prefixItems: [a, b]` (with `minItems` = `maxItems` = its length, `items` any
/// of them); drops the `{}` default of a nested struct.
#[derive(Debug, Clone)]
struct ForClientGenerators;

impl Visitor for ForClientGenerators {
    fn visit_schema_object(&mut self, schema: &mut SchemaObject) {
        visit_schema_object(self, schema);
        // A nested struct that defaults to `{}` (every field its own default, which each field
        // says): client generators refuse a default on an object-typed property.
        let refers = schema
            .subschemas
            .as_ref()
            .is_some_and(|s| s.all_of.is_some());
        if let Some(metadata) = schema.metadata.as_mut().filter(|_| refers) {
            if matches!(&metadata.default, Some(serde_json::Value::Object(m)) if m.is_empty()) {
                metadata.default = None;
            }
        }
        let Some(array) = schema.array.as_mut() else {
            return;
        };
        if let Some(SingleOrVec::Vec(items)) = &array.items {
            let prefix = serde_json::to_value(items).expect("a JSON Schema serialises");
            // `items` (which the length bounds never let apply) is any of the tuple's types:
            // client generators refuse both `items: false` and an array without `items`.
            let any = SchemaObject {
                subschemas: Some(Box::new(schemars::schema::SubschemaValidation {
                    any_of: Some(items.clone()),
                    ..Default::default()
                })),
                ..Default::default()
            };
            array.items = Some(SingleOrVec::Single(Box::new(JsonSchemaNode::Object(any))));
            schema.extensions.insert("prefixItems".into(), prefix);
        }
    }
}

/// A `schemars` schema as the `utoipa` document holds it.
fn to_openapi(schema: &impl serde::Serialize, name: &str) -> RefOr<Schema> {
    let value = serde_json::to_value(schema).expect("a JSON Schema serialises");
    serde_json::from_value(value)
        .unwrap_or_else(|e| panic!("the schema of {name} is not an OpenAPI schema: {e}"))
}

/// `T` and every type it names, as the document's components hold them (`T` among them under
/// its own name).
fn definitions_of<T: JsonSchema>() -> schemars::Map<String, JsonSchemaNode> {
    // The root form, not `subschema_for`: the generator's visitors (the `allOf` wrapping, the
    // tuples) run over a root schema and its definitions only.
    let root = generator().into_root_schema_for::<T>();
    let mut definitions = root.definitions;
    let mut schema = root.schema;
    // As a component, `T` reads as it does where another type names it: without the root's title.
    if let Some(metadata) = schema.metadata.as_mut() {
        metadata.title = None;
    }
    definitions.insert(T::schema_name(), JsonSchemaNode::Object(schema));
    definitions
}

impl<T: JsonSchema> PartialSchema for Schemars<T> {
    fn schema() -> RefOr<Schema> {
        let name = T::schema_name();
        to_openapi(&definitions_of::<T>()[&name], &name)
    }
}

impl<T: JsonSchema> ToSchema for Schemars<T> {
    fn name() -> Cow<'static, str> {
        Cow::Owned(T::schema_name())
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        for (name, definition) in &definitions_of::<T>() {
            schemas.push((name.clone(), to_openapi(definition, name)));
        }
    }
}

// Each library type the document names, by one name: `utoipa` reads a generic `value_type` as
// generic composition, so the fields name these aliases.
/// The model file.
pub type ModelSchema = Schemars<stockade::Model>;
/// Solver settings.
pub type SettingsSchema = Schemars<stockade::Settings>;
/// A plan, as a solve result gives it.
pub type PlanSchema = Schemars<stockade::Plan>;
/// One swept parameter.
pub type ParameterSchema = Schemars<stockade::analysis::sweep::Parameter>;
/// What a worst case may take out.
pub type WorstCaseOptionsSchema = Schemars<stockade::analysis::interdiction::WorstCaseOptions>;
/// One validation problem.
pub type ProblemSchema = Schemars<stockade::Problem>;
/// A solve result.
pub type SolveResultSchema = Schemars<stockade::SolveResult>;

/// A choice between library types: the schema is `anyOf` their references, with a description;
/// their components join the document.
macro_rules! any_of {
    ($(#[$doc:meta])* $name:ident, $description:literal, [$($t:ty),+ $(,)?]) => {
        $(#[$doc])*
        pub struct $name;

        impl PartialSchema for $name {
            fn schema() -> RefOr<Schema> {
                let mut any_of = utoipa::openapi::schema::AnyOfBuilder::new()
                    .description(Some($description));
                $(any_of = any_of.item(utoipa::openapi::Ref::from_schema_name(
                    <$t as JsonSchema>::schema_name(),
                ));)+
                any_of.into()
            }
        }

        impl ToSchema for $name {
            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                $(<Schemars<$t> as ToSchema>::schemas(schemas);)+
            }
        }
    };
}

any_of!(
    /// The `settings` of a job.
    JobSettings,
    "`Settings` for `solve`, `share`, `sweep` and `worst_case` jobs (the time limit capped by \
     the server); `EvaluationSettings` for `evaluate` jobs.",
    [stockade::Settings, stockade::EvaluationSettings]
);

any_of!(
    /// What a finished job's result is, by its kind.
    JobResult,
    "By the job's kind: `SolveResult` (solve), `Evaluation` (evaluate), `ShareReport` (share), \
     `SweepReport` (sweep), `WorstCase` (worst_case): what the command line prints with `--json`.",
    [
        stockade::SolveResult,
        stockade::analysis::evaluate::Evaluation,
        stockade::analysis::share::ShareReport,
        stockade::analysis::sweep::SweepReport,
        stockade::analysis::interdiction::WorstCase,
    ]
);

#[cfg(test)]
mod tests {
    use super::*;

    /// Every library schema the document carries survives the trip into `utoipa`'s types
    /// unchanged: nothing serde reads is dropped on the way to a client.
    fn round_trips<T: JsonSchema>() {
        let all = definitions_of::<T>();
        assert!(
            all.contains_key(&T::schema_name()),
            "{} has no component",
            T::schema_name()
        );
        for (name, original) in all {
            let original = serde_json::to_value(original).expect("serialises");
            let converted = serde_json::to_value(to_openapi(&original, &name)).expect("serialises");
            let mut changes = Vec::new();
            differences(&original, &converted, &mut String::new(), &mut changes);
            assert!(
                changes.is_empty(),
                "{name} changed on its way into the document: {changes:?}"
            );
        }
    }

    /// The paths at which `b` differs from `a`, each with both values.
    fn differences(
        a: &serde_json::Value,
        b: &serde_json::Value,
        at: &mut String,
        out: &mut Vec<String>,
    ) {
        use serde_json::Value::Object;
        match (a, b) {
            (Object(x), Object(y)) => {
                for key in x.keys().chain(y.keys().filter(|k| !x.contains_key(*k))) {
                    let len = at.len();
                    at.push('/');
                    at.push_str(key);
                    match (x.get(key), y.get(key)) {
                        (Some(p), Some(q)) => differences(p, q, at, out),
                        // `utoipa` cannot hold a `null` default; an absent field is null anyway.
                        (Some(serde_json::Value::Null), None) if key == "default" => {}
                        (p, q) => out.push(format!("{at}: {p:?} -> {q:?}")),
                    }
                    at.truncate(len);
                }
            }
            // `0.0` and `0` are one number to a validator.
            (serde_json::Value::Number(x), serde_json::Value::Number(y))
                if x.as_f64() == y.as_f64() => {}
            _ if a != b => out.push(format!("{at}: {a} -> {b}")),
            _ => {}
        }
    }

    /// Every library type the document names, with the components it brings.
    fn components() -> Vec<(String, RefOr<Schema>)> {
        let mut all = Vec::new();
        <JobSettings as ToSchema>::schemas(&mut all);
        <JobResult as ToSchema>::schemas(&mut all);
        for schemas in [
            <Schemars<stockade::Model> as ToSchema>::schemas,
            <Schemars<stockade::Plan> as ToSchema>::schemas,
            <Schemars<stockade::analysis::sweep::Parameter> as ToSchema>::schemas,
            <Schemars<stockade::analysis::interdiction::WorstCaseOptions> as ToSchema>::schemas,
            <Schemars<stockade::Problem> as ToSchema>::schemas,
        ] {
            schemas(&mut all);
        }
        all
    }

    /// Types from different roots that `schemars` names alike are one type: a client must not
    /// see one component under a name that a second, different schema also claims.
    #[test]
    fn no_two_library_types_share_a_component_name() {
        let mut seen: std::collections::BTreeMap<String, serde_json::Value> = Default::default();
        for (name, schema) in components() {
            let schema = serde_json::to_value(schema).expect("serialises");
            if let Some(earlier) = seen.insert(name.clone(), schema.clone()) {
                assert_eq!(earlier, schema, "two library types are both called {name}");
            }
        }
        assert!(
            seen.contains_key("Model") && seen.contains_key("SolveResult"),
            "{seen:?}"
        );
    }

    #[test]
    fn library_schemas_reach_the_document_unchanged() {
        round_trips::<stockade::Model>();
        round_trips::<stockade::Settings>();
        round_trips::<stockade::Plan>();
        round_trips::<stockade::SolveResult>();
        round_trips::<stockade::EvaluationSettings>();
        round_trips::<stockade::analysis::evaluate::Evaluation>();
        round_trips::<stockade::analysis::share::ShareReport>();
        round_trips::<stockade::analysis::share::ShareSettings>();
        round_trips::<stockade::analysis::interdiction::WorstCase>();
        round_trips::<stockade::analysis::interdiction::WorstCaseOptions>();
        round_trips::<stockade::analysis::sweep::SweepReport>();
        round_trips::<stockade::analysis::sweep::Parameter>();
        round_trips::<stockade::Problem>();
    }
}
