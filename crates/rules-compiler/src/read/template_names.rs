//! What an ARM template says plainly about a resource's name: a literal, or an expression built
//! only from what the template itself holds (`parameters('p')` by the value a nested deployment
//! passes or the parameter's default, `variables('v')`, `concat(...)`, `format('{0}/{1}', ...)`,
//! `resourceId(...)` (a subnet's NSG), `resourceGroup().name` / `.id` and
//! `subscription().subscriptionId` / `.id` (where the deployment says them), string literals).
//! Anything else (`uniqueString(...)`, `toLower(...)`, `resourceGroup().location`, a parameter
//! with no value in the file) says nothing, and the readers do not guess.

use super::json::Json;

/// How deep expressions may refer to one another (a parameter whose default names a variable,
/// ...); deeper, or circular, says nothing.
const DEPTH: usize = 8;

/// How deep calls may nest in one expression (`concat(concat(...))`); deeper says nothing, and a
/// hostile template cannot exhaust the stack.
const NESTING: usize = 32;

/// Where names are evaluated: a template, and for one nested in a deployment, the values that
/// deployment passes (evaluated where the deployment stands), its resource group and its
/// subscription.
pub(crate) struct Scope<'s, J> {
    template: J,
    passed: Option<J>,
    parent: Option<&'s Scope<'s, J>>,
    /// Where the scope deploys: `Named` where a deployment says it plainly, `Unknown` where it
    /// names it by what the template does not say, `Inherited` where no deployment names it.
    pub resource_group: Place,
    pub subscription: Place,
    /// What `resourceGroup()` and `subscription()` return here: the deployment's own where its
    /// template is evaluated in its own scope (`inner`), the parent's otherwise (`outer`, ARM's
    /// default).
    called_group: Place,
    called_subscription: Place,
}

/// What `resourceGroup().name` and `subscription().subscriptionId` stand for in the top
/// deployment (the environment's own, the file being its export): marks no name holds, which the
/// subnet reader takes for the environment's resource group and subscription.
pub(crate) const TOP_RESOURCE_GROUP: &str = "\u{2}resourceGroup\u{2}";
pub(crate) const TOP_SUBSCRIPTION: &str = "\u{2}subscription\u{2}";
const PLACE_MARK: char = '\u{2}';

/// The text of a place as a function returns it: the top deployment's by its mark.
fn place_text(place: &Place, top: &str) -> Option<String> {
    match place {
        Place::Inherited | Place::Top => Some(top.to_string()),
        Place::Named(name) => Some(name.clone()),
        Place::Unknown => None,
    }
}

/// A resource group or subscription a nested deployment deploys into.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Place {
    Inherited,
    /// The top deployment's own (`[resourceGroup().name]` evaluated there): the environment's.
    Top,
    Named(String),
    Unknown,
}

impl<'s, 'v, J: Json<'v>> Scope<'s, J> {
    pub fn top(template: J) -> Self {
        Scope {
            template,
            passed: None,
            parent: None,
            resource_group: Place::Inherited,
            subscription: Place::Inherited,
            called_group: Place::Inherited,
            called_subscription: Place::Inherited,
        }
    }

    /// The scope of the template a nested `deployment` holds inline. ARM evaluates its expressions
    /// with the template's own parameters and the values the deployment passes only when the
    /// deployment asks for it (`expressionEvaluationOptions.scope` `inner`); by default (`outer`)
    /// with the parent's parameters and variables.
    pub fn nested(&'s self, deployment: J, template: J) -> Scope<'s, J> {
        let place = |key: &str, inherited: &Place| match deployment.get(key).and_then(J::as_str) {
            None => inherited.clone(),
            Some(text) => match self.id(text) {
                Some(v) if v == TOP_RESOURCE_GROUP || v == TOP_SUBSCRIPTION => Place::Top,
                // No Azure name holds a control character (the marks are some).
                Some(v) if !v.chars().any(char::is_control) => Place::Named(v),
                _ => Place::Unknown,
            },
        };
        let inner = deployment
            .get("properties")
            .and_then(|p| p.get("expressionEvaluationOptions"))
            .and_then(|o| o.get("scope"))
            .and_then(J::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
        let (template, passed, parent) = match inner {
            true => (template, deployment.get("properties").and_then(|p| p.get("parameters")), Some(self)),
            false => (self.template, self.passed, self.parent),
        };
        let resource_group = place("resourceGroup", &self.resource_group);
        let subscription = place("subscriptionId", &self.subscription);
        let (called_group, called_subscription) = match inner {
            true => (resource_group.clone(), subscription.clone()),
            false => (self.called_group.clone(), self.called_subscription.clone()),
        };
        Scope {
            template,
            passed,
            parent,
            resource_group,
            subscription,
            called_group,
            called_subscription,
        }
    }

    /// Whether ARM deploys a resource with this `condition`: a boolean, or an expression of
    /// `true()`, `false()`, `equals`, `not` and parameters' values; `None` where the template does
    /// not say plainly.
    pub fn condition(&self, condition: J) -> Option<bool> {
        condition.as_bool().or_else(|| as_bool(&self.value(condition.as_str()?)?))
    }

    /// The text a template string stands for: itself, or the expression it holds evaluated.
    pub fn value(&self, text: &str) -> Option<String> {
        self.id(text).filter(|v| !v.contains(PLACE_MARK))
    }

    /// [`Scope::value`] of a resource id or a deployment's place, in which the top deployment's
    /// resource group and subscription stand as [`TOP_RESOURCE_GROUP`] and [`TOP_SUBSCRIPTION`]
    /// (the environment's, which only the reader of ids knows).
    pub fn id(&self, text: &str) -> Option<String> {
        self.value_at(text, 0, false)
    }

    /// [`Scope::value`], where a parameter of the template's top with no value in the file stands
    /// as [`unknown`] of its name: `[concat(parameters('policy'), '/corp')]` is a group named
    /// `corp` of the policy that parameter names, whatever it is, and the same policy as that of
    /// any other group named after the same parameter.
    pub fn partial_value(&self, text: &str) -> Option<String> {
        self.value_at(text, 0, true)
    }

    fn value_at(&self, text: &str, depth: usize, partial: bool) -> Option<String> {
        match text.strip_prefix('[') {
            // `[[` starts a literal that begins with `[`.
            Some(rest) if rest.starts_with('[') => Some(rest.to_string()),
            Some(rest) => {
                let inner = rest.strip_suffix(']')?;
                let mut parser = Parser {
                    text: inner,
                    at: 0,
                    partial,
                    nesting: 0,
                };
                let value = parser.argument(self, depth)?;
                parser.skip_spaces();
                (parser.at == inner.len()).then_some(value)
            }
            None => Some(text.to_string()),
        }
    }

    /// What `resourceGroup().name` returns here (the top's mark for the top's own); `None` where
    /// the deployment does not say.
    fn called_group(&self) -> Option<String> {
        place_text(&self.called_group, TOP_RESOURCE_GROUP)
    }

    /// What `subscription().subscriptionId` returns here, as [`Scope::called_group`].
    fn called_subscription(&self) -> Option<String> {
        place_text(&self.called_subscription, TOP_SUBSCRIPTION)
    }

    fn parameter(&self, name: &str, depth: usize, partial: bool) -> Option<String> {
        if depth >= DEPTH {
            return None;
        }
        // ARM's parameter and variable names compare case-insensitively.
        let passed = self.passed.and_then(|p| p.get_any_case(name)).and_then(|p| p.get("value"));
        if let (Some(value), Some(parent)) = (passed, self.parent) {
            return parent.value_at(value.as_str()?, depth + 1, partial);
        }
        let declared = self.template.get("parameters")?.get_any_case(name)?;
        match declared.get("defaultValue") {
            Some(default) if default.as_bool().is_some() => default.as_bool().map(arm_bool),
            Some(default) if default.as_number().is_some() => default.as_number().map(|n| n.to_string()),
            Some(default) => self.value_at(default.as_str()?, depth + 1, partial),
            // Only the top's parameters: one name stands for one value there.
            None if partial && self.parent.is_none() => Some(unknown(name)),
            None => None,
        }
    }

    fn variable(&self, name: &str, depth: usize, partial: bool) -> Option<String> {
        if depth >= DEPTH {
            return None;
        }
        let value = self.template.get("variables")?.get_any_case(name)?.as_str()?;
        self.value_at(value, depth + 1, partial)
    }
}

/// What a parameter of the template's top with no value in the file stands for in a
/// [`Scope::partial_value`]: its name (lower-cased: ARM compares parameter names
/// case-insensitively) between two characters no resource name holds.
pub(crate) fn unknown(parameter: &str) -> String {
    format!("{UNKNOWN}{}{UNKNOWN}", parameter.to_ascii_lowercase())
}

/// The mark around an [`unknown`].
pub(crate) const UNKNOWN: char = '\u{1}';

/// A cursor over an expression's text (inside its brackets); `partial` as in
/// [`Scope::partial_value`].
struct Parser<'t> {
    text: &'t str,
    at: usize,
    partial: bool,
    /// Calls open around the cursor.
    nesting: usize,
}

impl Parser<'_> {
    fn skip_spaces(&mut self) {
        while self.text[self.at..].starts_with(' ') {
            self.at += 1;
        }
    }

    fn eat(&mut self, c: char) -> Option<()> {
        self.skip_spaces();
        self.text[self.at..].starts_with(c).then(|| self.at += c.len_utf8())
    }

    /// A string literal (`'it''s'`) or a call.
    fn argument<'v, J: Json<'v>>(&mut self, scope: &Scope<'_, J>, depth: usize) -> Option<String> {
        self.skip_spaces();
        if !self.text[self.at..].starts_with('\'') {
            return self.call(scope, depth);
        }
        self.at += 1;
        let mut out = String::new();
        loop {
            let rest = &self.text[self.at..];
            let quote = rest.find('\'')?;
            out.push_str(&rest[..quote]);
            self.at += quote + 1;
            if !self.text[self.at..].starts_with('\'') {
                return Some(out);
            }
            out.push('\'');
            self.at += 1;
        }
    }

    /// `name(arguments)` for the functions this module knows; `None` for any other.
    fn call<'v, J: Json<'v>>(&mut self, scope: &Scope<'_, J>, depth: usize) -> Option<String> {
        self.skip_spaces();
        let rest = &self.text[self.at..];
        let name_len = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
        let name = rest[..name_len].to_ascii_lowercase();
        self.at += name_len;
        self.eat('(')?;
        if self.nesting >= NESTING {
            return None;
        }
        self.nesting += 1;
        let mut args = Vec::new();
        if self.eat(')').is_none() {
            loop {
                args.push(self.argument(scope, depth)?);
                if self.eat(',').is_none() {
                    self.eat(')')?;
                    break;
                }
            }
        }
        self.nesting -= 1;
        match (name.as_str(), args.as_slice()) {
            ("parameters", [p]) => scope.parameter(p, depth, self.partial),
            ("variables", [v]) => scope.variable(v, depth, self.partial),
            ("concat", parts) => Some(parts.concat()),
            ("format", [pattern, values @ ..]) => format(pattern, values),
            ("resourceid", args) => {
                // The place it leaves out is the one `resourceGroup()` returns here (the parent's
                // in an outer-scoped nested template), not the place the resource deploys into;
                // where that is not said, the id keeps no place.
                let filled: Vec<String> = match (
                    args.iter().position(|a| a.contains('/')),
                    scope.called_subscription(),
                    scope.called_group(),
                ) {
                    (Some(0), Some(subscription), Some(group)) => [subscription, group].into_iter().chain(args.iter().cloned()).collect(),
                    (Some(1), Some(subscription), _) => std::iter::once(subscription).chain(args.iter().cloned()).collect(),
                    _ => args.to_vec(),
                };
                super::template_subnets::resource_id(&filled)
            }
            // What a resource's `condition` is built from (`Scope::condition`).
            ("true", []) => Some(arm_bool(true)),
            ("false", []) => Some(arm_bool(false)),
            ("equals", [a, b]) => Some(arm_bool(a == b)),
            ("not", [a]) => as_bool(a).map(|b| arm_bool(!b)),
            ("resourcegroup", []) | ("subscription", []) => self.property(scope, &name, depth),
            _ => None,
        }
    }

    /// A property of `resourceGroup()` or `subscription()` (`function`), right after the call:
    /// the names and ids of the places a deployment says plainly.
    fn property<'v, J: Json<'v>>(&mut self, scope: &Scope<'_, J>, function: &str, depth: usize) -> Option<String> {
        // `.name`, or ARM's other way of writing it, `['name']`.
        let property = if self.eat('.').is_some() {
            let rest = &self.text[self.at..];
            let len = rest.find(|c: char| !c.is_ascii_alphanumeric()).unwrap_or(rest.len());
            self.at += len;
            rest[..len].to_ascii_lowercase()
        } else {
            self.eat('[')?;
            let key = self.argument(scope, depth)?;
            self.eat(']')?;
            key.to_ascii_lowercase()
        };
        match (function, property.as_str()) {
            ("resourcegroup", "name") => scope.called_group(),
            ("resourcegroup", "id") => Some(format!(
                "/subscriptions/{}/resourceGroups/{}",
                scope.called_subscription()?,
                scope.called_group()?
            )),
            ("subscription", "subscriptionid") => scope.called_subscription(),
            ("subscription", "id") => Some(format!("/subscriptions/{}", scope.called_subscription()?)),
            _ => None,
        }
    }
}

/// A boolean as the evaluator carries it.
fn arm_bool(b: bool) -> String {
    if b { "True" } else { "False" }.to_string()
}

fn as_bool(text: &str) -> Option<bool> {
    match text {
        t if t.eq_ignore_ascii_case("true") => Some(true),
        t if t.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}

/// ARM's `format`: `{0}` takes the first value, `{{` and `}}` are braces; format specifiers say
/// nothing here.
fn format(pattern: &str, values: &[String]) -> Option<String> {
    let mut out = String::new();
    let mut rest = pattern;
    while let Some(i) = rest.find(['{', '}']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if tail.starts_with("{{") || tail.starts_with("}}") {
            out.push_str(&tail[..1]);
            rest = &tail[2..];
            continue;
        }
        let close = tail.find('}')?;
        let index: usize = tail[1..close].trim().parse().ok()?;
        out.push_str(values.get(index)?);
        rest = &tail[close + 1..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn value(template: &Value, text: &str) -> Option<String> {
        Scope::top(template).value(text)
    }

    #[test]
    fn plain_expressions_are_evaluated_and_others_say_nothing() {
        let t = json!({
            "parameters": { "nsg": { "defaultValue": "ise-nsg" }, "none": { "type": "String" },
                            "chained": { "defaultValue": "[variables('v')]" }, "loop": { "defaultValue": "[parameters('loop')]" } },
            "variables": { "v": "[concat('jump', 'box')]" }
        });
        assert_eq!(value(&t, "plain").as_deref(), Some("plain"));
        assert_eq!(value(&t, "[[literal]").as_deref(), Some("[literal]"));
        assert_eq!(value(&t, "[parameters('nsg')]").as_deref(), Some("ise-nsg"));
        assert_eq!(value(&t, "[ parameters( 'nsg' ) ]").as_deref(), Some("ise-nsg"));
        assert_eq!(value(&t, "[concat(parameters('nsg'), '/in-x')]").as_deref(), Some("ise-nsg/in-x"));
        assert_eq!(value(&t, "[format('{0}/{1}', 'hub', 'g')]").as_deref(), Some("hub/g"));
        assert_eq!(value(&t, "[format('{{{0}}}', 'x')]").as_deref(), Some("{x}"));
        assert_eq!(value(&t, "[parameters('chained')]").as_deref(), Some("jumpbox"));
        assert_eq!(value(&t, "['it''s']").as_deref(), Some("it's"));
        // Nesting past the bound says nothing (a hostile template cannot exhaust the stack).
        let deep = format!("[{}'x'{}]", "concat(".repeat(100_000), ")".repeat(100_000));
        assert_eq!(value(&t, &deep), None);
        let shallow = format!("[{}'x'{}]", "concat(".repeat(10), ")".repeat(10));
        assert_eq!(value(&t, &shallow).as_deref(), Some("x"));
        for nothing in [
            "[parameters('none')]",
            "[parameters('missing')]",
            "[parameters('loop')]",
            "[toLower(parameters('nsg'))]",
            "[resourceGroup().location]",
            "[resourceGroup()]",
            "[format('{0}-{1}', 'a')]",
            "[concat('a')",
            "[parameters('nsg')] trailing",
        ] {
            assert_eq!(value(&t, nothing), None, "{nothing}");
        }
    }

    /// `resourceGroup()` and `subscription()` return the places a deployment says: the top's
    /// own (marked, for the reader of ids to take as the environment's), a nested deployment's
    /// where its template is evaluated inside it, the parent's where outside (ARM's default).
    #[test]
    fn the_deployments_own_place_is_read_where_it_says_it() {
        let t = json!({"parameters": {}});
        let top = Scope::top(&t);
        assert_eq!(top.id("[resourceGroup().name]").as_deref(), Some(TOP_RESOURCE_GROUP));
        assert_eq!(top.id("[subscription().subscriptionId]").as_deref(), Some(TOP_SUBSCRIPTION));
        assert_eq!(
            top.id("[resourceGroup().id]"),
            Some(format!("/subscriptions/{TOP_SUBSCRIPTION}/resourceGroups/{TOP_RESOURCE_GROUP}"))
        );
        assert_eq!(top.id("[subscription().id]"), Some(format!("/subscriptions/{TOP_SUBSCRIPTION}")));
        assert_eq!(top.id("[resourceGroup()['name']]").as_deref(), Some(TOP_RESOURCE_GROUP));
        assert_eq!(top.id("[subscription()[ 'subscriptionId' ]]").as_deref(), Some(TOP_SUBSCRIPTION));
        assert_eq!(top.id("[resourceGroup()['name'"), None);
        // A key naming the parameter it is the default of ends at the depth bound.
        let looped = json!({"parameters": {"p": {"defaultValue": "[resourceGroup()[parameters('p')]]"}}});
        assert_eq!(Scope::top(&looped).id("[parameters('p')]"), None);
        // Not a name: a resource named after its resource group is not known by its name here.
        assert_eq!(top.value("[resourceGroup().name]"), None);
        assert_eq!(top.id("[resourceGroup().location]"), None);
        assert_eq!(top.id("[resourceGroup()]"), None);
        let inner = json!({"template": {}});
        let deployment = |scope: &str| {
            json!({"resourceGroup": "hub", "subscriptionId": "[subscription().subscriptionId]",
                   "properties": {"expressionEvaluationOptions": {"scope": scope}}})
        };
        let inside = deployment("inner");
        let nested = top.nested(&inside, &inner);
        assert_eq!(nested.resource_group, Place::Named("hub".into()));
        assert_eq!(nested.subscription, Place::Top);
        assert_eq!(nested.id("[resourceGroup().name]").as_deref(), Some("hub"));
        assert_eq!(nested.id("[subscription().subscriptionId]").as_deref(), Some(TOP_SUBSCRIPTION));
        let nsg = "[resourceId('Microsoft.Network/networkSecurityGroups', 'n')]";
        assert_eq!(
            nested.id(nsg),
            Some(format!(
                "/subscriptions/{TOP_SUBSCRIPTION}/resourceGroups/hub/providers/Microsoft.Network/networkSecurityGroups/n"
            ))
        );
        let outside = deployment("outer");
        let nested = top.nested(&outside, &inner);
        assert_eq!(nested.id("[resourceGroup().name]").as_deref(), Some(TOP_RESOURCE_GROUP));
        // `resourceId` leaves out the place `resourceGroup()` returns: the parent's here, not hub.
        assert_eq!(
            nested.id(nsg),
            Some(format!(
                "/subscriptions/{TOP_SUBSCRIPTION}/resourceGroups/{TOP_RESOURCE_GROUP}/providers/Microsoft.Network/networkSecurityGroups/n"
            ))
        );
        assert_eq!(
            nested.id("[resourceId('spoke', 'Microsoft.Network/routeTables', 'r')]"),
            Some(format!(
                "/subscriptions/{TOP_SUBSCRIPTION}/resourceGroups/spoke/providers/Microsoft.Network/routeTables/r"
            ))
        );
        let derived = json!({"resourceGroup": "[concat(resourceGroup().name, '-x')]"});
        assert_eq!(top.nested(&derived, &inner).resource_group, Place::Unknown);
    }

    /// A resource's condition: a boolean, or an expression the evaluator reads.
    #[test]
    fn conditions_are_read_where_the_template_says_them_plainly() {
        let t = json!({"parameters": {"deploy": {"defaultValue": true}, "mode": {"defaultValue": "new"}, "open": {"type": "Bool"}}});
        let scope = Scope::top(&t);
        let condition = |c: Value| scope.condition(&c);
        assert_eq!(condition(json!(true)), Some(true));
        assert_eq!(condition(json!(false)), Some(false));
        assert_eq!(condition(json!("[true()]")), Some(true));
        assert_eq!(condition(json!("[parameters('deploy')]")), Some(true));
        assert_eq!(condition(json!("[not(parameters('deploy'))]")), Some(false));
        assert_eq!(condition(json!("[equals(parameters('mode'), 'new')]")), Some(true));
        assert_eq!(condition(json!("[equals(parameters('mode'), 'existing')]")), Some(false));
        assert_eq!(condition(json!("[parameters('open')]")), None);
        assert_eq!(condition(json!("[greater(1, 0)]")), None);
    }

    /// A top parameter with no value stands as one unknown per parameter name, so names built from it keep their known parts; elsewhere it still says nothing.
    #[test]
    fn partial_values_keep_what_the_template_says() {
        let t = json!({"parameters": {"policy": {"type": "String"}, "other": {"type": "String"}, "known": {"defaultValue": "hub"}},
                       "variables": {"v": "[parameters('policy')]"}});
        let top = Scope::top(&t);
        let partial = |text: &str| top.partial_value(text);
        let policy = unknown("policy");
        assert_eq!(partial("[concat(parameters('policy'), '/corp')]"), Some(format!("{policy}/corp")));
        assert_eq!(partial("[format('{0}/{1}', variables('v'), 'ise')]"), Some(format!("{policy}/ise")));
        assert_ne!(partial("[parameters('other')]"), partial("[parameters('policy')]"));
        assert_eq!(
            partial("[concat(parameters('POLICY'), '/x')]"),
            partial("[concat(parameters('policy'), '/x')]")
        );
        assert_eq!(partial("[concat(parameters('KNOWN'), '/g')]").as_deref(), Some("hub/g"));
        assert_eq!(partial("[concat(parameters('known'), '/g')]").as_deref(), Some("hub/g"));
        assert_eq!(partial("[toLower(parameters('policy'))]"), None);
        assert_eq!(top.value("[concat(parameters('policy'), '/corp')]"), None);
        // A nested template's own parameters are not the top's.
        let inner = json!({"parameters": {"policy": {"type": "String"}}});
        let deployment = json!({"properties": {"expressionEvaluationOptions": {"scope": "inner"}}});
        assert_eq!(top.nested(&deployment, &inner).partial_value("[parameters('policy')]"), None);
    }

    /// A nested deployment's template takes the values the deployment passes, evaluated where
    /// the deployment stands, before its own defaults; its resource group likewise.
    #[test]
    fn nested_templates_take_the_passed_values() {
        let outer = json!({ "parameters": { "outerName": { "defaultValue": "jumpbox-nsg" }, "rg": { "defaultValue": "spoke-rg" } } });
        let inner = json!({ "parameters": { "name": { "defaultValue": "contoso-ise-nsg" }, "other": { "defaultValue": "kept" } } });
        let deployment = json!({ "resourceGroup": "[parameters('rg')]", "subscriptionId": "4444",
            "properties": { "expressionEvaluationOptions": { "scope": "inner" },
                            "parameters": { "name": { "value": "[parameters('outerName')]" } } } });
        let top = Scope::top(&outer);
        let scope = top.nested(&deployment, &inner);
        assert_eq!(scope.value("[parameters('name')]").as_deref(), Some("jumpbox-nsg"));
        assert_eq!(scope.value("[parameters('other')]").as_deref(), Some("kept"));
        assert_eq!(scope.resource_group, Place::Named("spoke-rg".into()));
        assert_eq!(scope.subscription, Place::Named("4444".into()));
        let unnamed = json!({ "resourceGroup": "[parameters('none')]",
            "properties": { "expressionEvaluationOptions": { "scope": "Inner" },
                            "parameters": { "name": { "value": "[resourceGroup().name]" } } } });
        let scope = top.nested(&unnamed, &inner);
        assert_eq!(scope.value("[parameters('name')]"), None);
        assert_eq!((scope.resource_group, scope.subscription), (Place::Unknown, Place::Inherited));
        // ARM's default scope is the parent's: the nested template's own parameters say nothing.
        let outer_scope = json!({ "properties": { "parameters": { "name": { "value": "ignored" } } } });
        let scope = top.nested(&outer_scope, &inner);
        assert_eq!(scope.value("[parameters('outerName')]").as_deref(), Some("jumpbox-nsg"));
        assert_eq!(scope.value("[parameters('other')]"), None);
    }
}
