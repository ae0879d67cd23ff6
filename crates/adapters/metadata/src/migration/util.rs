use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

/// A `CREATE TABLE` that stores text as 4-byte UTF-8 with binary comparison on MySQL/MariaDB,
/// whatever the server's defaults are (emoji would not fit in `utf8`, and a case-insensitive
/// collation would make unique keys disagree with the other backends).
pub(super) fn create_table(manager: &SchemaManager<'_>, table: impl IntoIden + 'static) -> TableCreateStatement {
    let mut stmt = Table::create();
    stmt.table(table);
    if manager.get_database_backend() == DbBackend::MySql {
        stmt.character_set("utf8mb4").collate("utf8mb4_bin");
    }
    stmt
}

/// A foreign key that deletes the row when the row it points at goes (a user's sessions,
/// videos and files; a video's comments).
pub(super) fn cascade(
    name: &str,
    from: (impl IntoIden + 'static, impl IntoIden + 'static),
    to: (impl IntoIden + 'static, impl IntoIden + 'static),
) -> ForeignKeyCreateStatement {
    ForeignKey::create().name(name).from(from.0, from.1).to(to.0, to.1).on_delete(ForeignKeyAction::Cascade).to_owned()
}
