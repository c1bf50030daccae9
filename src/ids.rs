//! Closed vocabularies of ids that reports print as text: each is an enum whose variants carry
//! the exact string the report shows and a one-line description for docs/report-schema.md.
//! Code matches on the variants; strings come in only through `parse` (user text: a policy's
//! `risk.weights` keys) and go out only through `as_str` (reports).

/// Declares an id enum: its variants with their report text and description, `ALL` (in
/// declaration order), `as_str`, `description`, `parse`, `Display`, and `Serialize` as the text.
macro_rules! id_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal : $desc:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* #[doc = $desc] $variant, )+
        }

        impl $name {
            /// Every id, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The id as reports print it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }

            /// What the id means, in one line (docs/report-schema.md lists it).
            pub fn description(self) -> &'static str {
                match self {
                    $( $name::$variant => $desc, )+
                }
            }

            /// The id `text` names, if any.
            pub fn parse(text: &str) -> Option<$name> {
                match text {
                    $( $text => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

pub(crate) use id_enum;
