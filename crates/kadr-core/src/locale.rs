//! The languages Kadr speaks to people in (en, ru, ar): negotiation from Accept-Language and
//! the words for each error code.
//!
//! The words are one exhaustive `match` per list of codes (no wildcard arm), so a code cannot
//! be added to [`crate::codes`] without its titles in every language.

use crate::codes::{Code, Failure};

/// A language Kadr speaks.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Locale {
    #[default]
    En,
    Ru,
    Ar,
}

/// Entries of an Accept-Language value looked at, at most (empty ones not counted).
const MAX_ENTRIES: usize = 32;
/// Comma-separated pieces of an Accept-Language value looked at, at most (empty ones counted):
/// the work on a hostile header is bounded whatever its length.
const MAX_PIECES: usize = 256;

impl Locale {
    /// Every locale, the default first.
    pub const ALL: [Locale; 3] = [Locale::En, Locale::Ru, Locale::Ar];

    /// The language tag: "en", "ru" or "ar".
    pub fn as_str(self) -> &'static str {
        match self {
            Locale::En => "en",
            Locale::Ru => "ru",
            Locale::Ar => "ar",
        }
    }

    /// The locale of a language tag by its primary subtag, in any case, with `-` or `_`
    /// between subtags: "ru", "ru-RU", "AR_eg", "en-GB". None for other languages and for
    /// what is not a tag.
    pub fn parse(tag: &str) -> Option<Locale> {
        match parse_range(tag.trim())? {
            Range::Any => None,
            Range::Lang(primary) => Locale::of_primary(primary),
        }
    }

    /// The best of ours for an Accept-Language header value (RFC 9110 §12.5.4), or None when
    /// none of ours is acceptable.
    ///
    /// A range counts for the locale of its primary subtag (`ar-EG` asks for Arabic); where
    /// several name the same language, the highest weight wins. `*` gives its weight to the
    /// locales no range names; `q=0` makes a locale unacceptable. At equal weights a locale
    /// named outright beats one reached by `*`, then the one named first, then the order of
    /// [`Locale::ALL`]. Malformed entries are skipped; only the first 32 entries (of the first
    /// 256 comma-separated pieces) are looked at.
    pub fn negotiate(accept_language: &str) -> Option<Locale> {
        // Per locale (index in ALL): the best weight of a range naming it, and where the
        // first range with that weight stood.
        let mut named: [Option<(u16, usize)>; 3] = [None; 3];
        let mut any: Option<u16> = None;
        let entries = accept_language
            .split(',')
            .take(MAX_PIECES)
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .take(MAX_ENTRIES);
        for (position, entry) in entries.enumerate() {
            let Some((range, q)) = parse_entry(entry) else {
                continue;
            };
            match range {
                Range::Any => any = Some(any.map_or(q, |a| a.max(q))),
                Range::Lang(primary) => {
                    if let Some(locale) = Locale::of_primary(primary) {
                        let slot = &mut named[locale.index()];
                        if slot.is_none_or(|(best, _)| q > best) {
                            *slot = Some((q, position));
                        }
                    }
                }
            }
        }
        let mut best: Option<(Locale, (u16, bool, usize))> = None;
        for locale in Locale::ALL {
            let (q, is_named, position) = match named[locale.index()] {
                Some((q, position)) => (q, true, position),
                None => match any {
                    Some(q) => (q, false, usize::MAX),
                    None => continue,
                },
            };
            if q == 0 {
                continue;
            }
            let better = match best {
                None => true,
                Some((_, (bq, bnamed, bpos))) => {
                    (q, is_named) > (bq, bnamed)
                        || ((q, is_named) == (bq, bnamed) && position < bpos)
                }
            };
            if better {
                best = Some((locale, (q, is_named, position)));
            }
        }
        best.map(|(locale, _)| locale)
    }

    /// Whether the language is written right to left.
    pub fn is_rtl(self) -> bool {
        matches!(self, Locale::Ar)
    }

    fn index(self) -> usize {
        match self {
            Locale::En => 0,
            Locale::Ru => 1,
            Locale::Ar => 2,
        }
    }

    fn of_primary(primary: &str) -> Option<Locale> {
        Locale::ALL
            .into_iter()
            .find(|l| primary.eq_ignore_ascii_case(l.as_str()))
    }

    fn pick(self, (en, ru, ar): (&'static str, &'static str, &'static str)) -> &'static str {
        match self {
            Locale::En => en,
            Locale::Ru => ru,
            Locale::Ar => ar,
        }
    }
}

impl std::fmt::Display for Locale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A language range of Accept-Language (RFC 4647 basic range; `_` taken for `-`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Range<'a> {
    Any,
    /// The primary subtag.
    Lang(&'a str),
}

/// `1*8ALPHA *("-" 1*8alphanum)` or `*`.
fn parse_range(range: &str) -> Option<Range<'_>> {
    if range == "*" {
        return Some(Range::Any);
    }
    let mut subtags = range.split(['-', '_']);
    let primary = subtags.next()?;
    let fits =
        |s: &str, ok: fn(&u8) -> bool| (1..=8).contains(&s.len()) && s.bytes().all(|b| ok(&b));
    if !fits(primary, u8::is_ascii_alphabetic) {
        return None;
    }
    for subtag in subtags {
        if !fits(subtag, u8::is_ascii_alphanumeric) {
            return None;
        }
    }
    Some(Range::Lang(primary))
}

/// `range *(OWS ";" OWS "q=" qvalue)`: the range and its weight in thousandths (1000 when
/// none is given). None when anything in it is malformed, or it has another parameter.
fn parse_entry(entry: &str) -> Option<(Range<'_>, u16)> {
    let mut parts = entry.split(';');
    let range = parse_range(parts.next()?.trim())?;
    let mut weight = None;
    for param in parts.map(str::trim).filter(|p| !p.is_empty()) {
        let value = param
            .strip_prefix("q=")
            .or_else(|| param.strip_prefix("Q="))?;
        if weight.is_some() {
            return None;
        }
        weight = Some(parse_qvalue(value)?);
    }
    Some((range, weight.unwrap_or(1000)))
}

/// `( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )` in thousandths.
fn parse_qvalue(value: &str) -> Option<u16> {
    let (whole, fraction) = value.split_once('.').unwrap_or((value, ""));
    if fraction.len() > 3 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let thousandths = fraction
        .bytes()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'));
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// A short title for an error code in `locale`: what a person reads.
pub fn code_title(code: Code, locale: Locale) -> &'static str {
    locale.pick(code_words(code))
}

/// A short title for why a video could not be processed, in `locale`.
pub fn failure_title(failure: Failure, locale: Locale) -> &'static str {
    locale.pick(failure_words(failure))
}

/// (English, Russian, Arabic). Terms kept throughout: video / видео / فيديو (مقاطع الفيديو),
/// channel / канал / قناة, upload / загрузка / رفع, playlist / плейлист / قائمة تشغيل,
/// moderation / модерация / الإشراف (moderators: المشرفون), account / аккаунт / حساب,
/// handle / адрес канала / معرّف القناة.
fn code_words(code: Code) -> (&'static str, &'static str, &'static str) {
    match code {
        Code::InvalidBody => (
            "The request could not be read: its data is malformed.",
            "Не удалось прочитать запрос: данные в неверном формате.",
            "تعذّرت قراءة الطلب: بياناته بصيغة غير صحيحة.",
        ),
        Code::InvalidQuery => (
            "The request's parameters are not valid.",
            "Параметры запроса указаны неверно.",
            "معاملات الطلب غير صحيحة.",
        ),
        Code::InvalidField => (
            "One of the values entered is not accepted.",
            "Одно из введённых значений не подходит.",
            "إحدى القيم المُدخلة غير مقبولة.",
        ),
        Code::InvalidForm => (
            "The form is malformed or has no file attached.",
            "Форма повреждена или к ней не приложен файл.",
            "النموذج غير صالح أو لم يُرفق به ملف.",
        ),
        Code::InvalidMetadata => (
            "The upload's metadata is malformed.",
            "Метаданные загрузки указаны неверно.",
            "البيانات الوصفية للرفع غير صحيحة.",
        ),
        Code::InvalidChecksum => (
            "The upload's checksum is malformed or uses an algorithm this server does not support.",
            "Контрольная сумма загрузки указана неверно или вычислена неподдерживаемым алгоритмом.",
            "المجموع الاختباري للرفع غير صحيح أو يستخدم خوارزمية لا يدعمها هذا الخادم.",
        ),
        Code::InvalidUploadLength => (
            "The size of the uploaded file is missing or not valid.",
            "Размер загружаемого файла не указан или указан неверно.",
            "حجم الملف المرفوع غير محدد أو غير صحيح.",
        ),
        Code::InvalidUploadOffset => (
            "The upload's position is missing or not valid.",
            "Позиция загрузки не указана или указана неверно.",
            "موضع الرفع غير محدد أو غير صحيح.",
        ),
        Code::DeferLengthUnsupported => (
            "The file's size must be given when the upload starts.",
            "Размер файла нужно указать в начале загрузки.",
            "يجب تحديد حجم الملف عند بدء الرفع.",
        ),
        Code::ExceedsLength => (
            "More data was sent than the upload's declared size.",
            "Отправлено больше данных, чем заявлено для загрузки.",
            "أُرسلت بيانات تتجاوز الحجم المعلن للرفع.",
        ),
        Code::BodyInterrupted => (
            "The connection broke before the request was complete.",
            "Соединение прервалось до того, как запрос был передан полностью.",
            "انقطع الاتصال قبل اكتمال إرسال الطلب.",
        ),
        Code::InvalidCaptions => (
            "This caption file cannot be used; the detail names the line at fault.",
            "Этот файл субтитров не подходит; в подробностях указана строка с ошибкой.",
            "لا يمكن استخدام ملف الترجمة هذا؛ تذكر التفاصيل السطر الذي فيه الخطأ.",
        ),
        Code::InvalidCursor => (
            "This page link is not valid; start again from the first page.",
            "Ссылка на страницу недействительна; начните с первой страницы.",
            "رابط الصفحة غير صالح؛ يُرجى البدء من الصفحة الأولى.",
        ),
        Code::InvalidLimit => (
            "The number of items per page must be between 1 and 100.",
            "Число элементов на странице должно быть от 1 до 100.",
            "يجب أن يكون عدد العناصر في الصفحة بين 1 و100.",
        ),
        Code::InvalidSort => (
            "This sort order is not offered.",
            "Такой порядок сортировки не поддерживается.",
            "ترتيب الفرز هذا غير متاح.",
        ),
        Code::UrlNotAllowed => (
            "This address cannot be imported from: use a public http or https link.",
            "С этого адреса импортировать нельзя: укажите общедоступную ссылку http или https.",
            "لا يمكن الاستيراد من هذا العنوان: استخدم رابط http أو https عامًّا.",
        ),
        Code::ReasonRequired => (
            "Give a reason for the rejection: the uploader will see it.",
            "Укажите причину отклонения: её увидит автор видео.",
            "يُرجى ذكر سبب الرفض ليطّلع عليه صاحب الفيديو.",
        ),
        Code::ConfirmationRequired => (
            "Type the channel's handle to confirm its deletion.",
            "Чтобы подтвердить удаление, введите адрес канала.",
            "لتأكيد الحذف، يُرجى كتابة معرّف القناة.",
        ),
        Code::UnknownChannel => (
            "The chosen channel is not one of yours.",
            "Выбранный канал вам не принадлежит.",
            "القناة المختارة ليست من قنواتك.",
        ),
        Code::NotAReply => (
            "You can reply to comments only, not to replies.",
            "Отвечать можно только на комментарии, а не на ответы.",
            "يمكن الرد على التعليقات فقط، لا على الردود.",
        ),
        Code::InvalidAccountToken => (
            "This link is not valid: it was used already or has expired.",
            "Ссылка недействительна: её уже использовали или срок её действия истёк.",
            "هذا الرابط غير صالح: سبق استخدامه أو انتهت صلاحيته.",
        ),
        Code::Unauthorized => (
            "You are not signed in, or your session has expired.",
            "Вы не вошли в аккаунт или сеанс истёк.",
            "لم تسجّل الدخول، أو انتهت صلاحية جلستك.",
        ),
        Code::InvalidCredentials => (
            "Wrong username or password.",
            "Неверное имя пользователя или пароль.",
            "اسم المستخدم أو كلمة المرور غير صحيحة.",
        ),
        Code::AccountSuspended => (
            "This account is temporarily suspended.",
            "Этот аккаунт временно заблокирован.",
            "هذا الحساب موقوف مؤقتًا.",
        ),
        Code::AccountBanned => (
            "This account is banned.",
            "Этот аккаунт заблокирован навсегда.",
            "هذا الحساب محظور نهائيًا.",
        ),
        Code::Forbidden => (
            "You are not allowed to do this.",
            "У вас нет прав на это действие.",
            "ليست لديك صلاحية للقيام بهذا الإجراء.",
        ),
        Code::InvalidToken => (
            "This media link is not valid.",
            "Ссылка на медиафайл недействительна.",
            "رابط الوسائط هذا غير صالح.",
        ),
        Code::InsufficientScope => (
            "This token may not do this.",
            "Этому токену это не разрешено.",
            "لا يُسمح لهذا الرمز بتنفيذ هذا الإجراء.",
        ),
        Code::CommentsOff => (
            "Comments are turned off for this video.",
            "Комментарии к этому видео отключены.",
            "التعليقات معطّلة على هذا الفيديو.",
        ),
        Code::Blocked => (
            "The channel's owner has blocked you: you cannot comment on their videos.",
            "Владелец канала заблокировал вас: вы не можете комментировать его видео.",
            "حظرك صاحب القناة، لذا لا يمكنك التعليق على مقاطع الفيديو الخاصة به.",
        ),
        Code::WrongPassword => (
            "The current password is wrong.",
            "Текущий пароль указан неверно.",
            "كلمة المرور الحالية غير صحيحة.",
        ),
        Code::TokenExpired => (
            "This media link has expired; reload the page.",
            "Срок действия ссылки на медиафайл истёк; обновите страницу.",
            "انتهت صلاحية رابط الوسائط؛ يُرجى تحديث الصفحة.",
        ),
        Code::NotFound => (
            "What you are looking for does not exist or is not available to you.",
            "То, что вы ищете, не существует или вам недоступно.",
            "ما تبحث عنه غير موجود أو غير متاح لك.",
        ),
        Code::WebUiMissing => (
            "The web interface is not installed on this server.",
            "Веб-интерфейс на этом сервере не установлен.",
            "واجهة الويب غير مثبّتة على هذا الخادم.",
        ),
        Code::BodyTooSlow => (
            "The data arrived too slowly; check your connection and try again.",
            "Данные передавались слишком медленно; проверьте соединение и попробуйте ещё раз.",
            "وصلت البيانات ببطء شديد؛ يُرجى التحقق من الاتصال والمحاولة مجددًا.",
        ),
        Code::EmailTaken => (
            "An account with this e-mail address already exists.",
            "Аккаунт с этим адресом электронной почты уже существует.",
            "يوجد حساب مسجّل بعنوان البريد الإلكتروني هذا.",
        ),
        Code::UsernameTaken => (
            "This username is taken.",
            "Это имя пользователя уже занято.",
            "اسم المستخدم هذا محجوز لحساب آخر.",
        ),
        Code::HandleTaken => (
            "This channel handle is taken.",
            "Этот адрес канала уже занят.",
            "معرّف القناة هذا محجوز لقناة أخرى.",
        ),
        Code::TooManyCaptions => (
            "This video already has captions in 20 languages; remove one first.",
            "У этого видео уже есть субтитры на 20 языках; сначала удалите одни из них.",
            "لهذا الفيديو ترجمات بعشرين لغة بالفعل؛ يُرجى حذف إحداها أولًا.",
        ),
        Code::TooManyWebhooks => (
            "You already have as many webhook endpoints as one account may have.",
            "У вас уже максимальное число адресов веб-хуков для одного аккаунта.",
            "لديك الحد الأقصى من نقاط الويب هوك المسموح بها للحساب الواحد.",
        ),
        Code::WebhookDisabled => (
            "This webhook endpoint is disabled. Enable it first.",
            "Этот адрес веб-хука отключён. Сначала включите его.",
            "نقطة الويب هوك هذه معطلة. فعّلها أولاً.",
        ),
        Code::TooManyChannels => (
            "You already have as many channels as one account may have.",
            "У вас уже максимальное число каналов для одного аккаунта.",
            "لديك الحد الأقصى من القنوات المسموح به للحساب الواحد.",
        ),
        Code::TooManyPlaylists => (
            "You already have as many playlists as one account may have.",
            "У вас уже максимальное число плейлистов для одного аккаунта.",
            "لديك الحد الأقصى من قوائم التشغيل المسموح به للحساب الواحد.",
        ),
        Code::LastChannel => (
            "This is your only channel, so it cannot be deleted.",
            "Это ваш единственный канал, поэтому его нельзя удалить.",
            "هذه قناتك الوحيدة، لذا لا يمكن حذفها.",
        ),
        Code::OwnChannel => (
            "You cannot subscribe to your own channel.",
            "Нельзя подписаться на собственный канал.",
            "لا يمكنك الاشتراك في قناتك.",
        ),
        Code::OwnAccount => (
            "You cannot block or report yourself or your own content.",
            "Нельзя заблокировать себя или пожаловаться на себя и свой контент.",
            "لا يمكنك حظر نفسك أو الإبلاغ عن نفسك أو عن محتواك.",
        ),
        Code::PlaylistFull => (
            "This playlist is full: it holds at most 5,000 videos.",
            "Плейлист заполнен: в нём может быть не больше 5000 видео.",
            "قائمة التشغيل ممتلئة: لا تتسع لأكثر من 5000 فيديو.",
        ),
        Code::WatchLater => (
            "Watch later always stays private and cannot be renamed or deleted.",
            "Плейлист «Смотреть позже» всегда личный: его нельзя переименовать или удалить.",
            "قائمة «المشاهدة لاحقًا» خاصة دائمًا، ولا يمكن إعادة تسميتها أو حذفها.",
        ),
        Code::AlreadyReported => (
            "You have already reported this; moderators will review it.",
            "Вы уже пожаловались на это; модераторы рассмотрят жалобу.",
            "سبق أن أبلغت عن هذا، وسيراجعه المشرفون.",
        ),
        Code::MailOff => (
            "This server does not send e-mail, so this is not available.",
            "Этот сервер не отправляет письма, поэтому функция недоступна.",
            "لا يرسل هذا الخادم رسائل البريد الإلكتروني، لذا هذه الميزة غير متاحة.",
        ),
        Code::ModeratorTarget => (
            "Moderators and administrators cannot be warned, suspended or banned.",
            "Модераторов и администраторов нельзя предупреждать или блокировать.",
            "لا يمكن توجيه إنذار إلى المشرفين والمسؤولين أو إيقافهم أو حظرهم.",
        ),
        Code::NoSource => (
            "The original file of this video is not stored.",
            "Исходный файл этого видео не сохранён.",
            "الملف الأصلي لهذا الفيديو غير محفوظ.",
        ),
        Code::NotReady => (
            "The video is not ready yet: only ready videos can be approved.",
            "Видео ещё не готово: одобрить можно только готовое видео.",
            "الفيديو ليس جاهزًا بعد: لا يمكن الموافقة إلا على مقاطع الفيديو الجاهزة.",
        ),
        Code::NotPlayable => (
            "This video cannot be played yet.",
            "Это видео пока нельзя воспроизвести.",
            "لا يمكن تشغيل هذا الفيديو بعد.",
        ),
        Code::PosterPending => (
            "The previous picture for this poster is still being made; try again in a moment.",
            "Предыдущая картинка для обложки ещё обрабатывается; попробуйте чуть позже.",
            "الصورة السابقة لهذه الصورة المصغّرة لا تزال قيد المعالجة؛ حاول مرة أخرى بعد قليل.",
        ),
        Code::OffsetMismatch => (
            "The upload's position does not match the server's; resume the upload.",
            "Позиция загрузки расходится с данными сервера; продолжите загрузку.",
            "موضع الرفع لا يطابق ما لدى الخادم؛ يُرجى استئناف الرفع.",
        ),
        Code::UploadComplete => (
            "This file is already fully uploaded.",
            "Этот файл уже загружен полностью.",
            "اكتمل رفع هذا الملف بالفعل.",
        ),
        Code::VideoHasUpload => (
            "An upload is already in progress for this video.",
            "Для этого видео уже идёт загрузка.",
            "هناك عملية رفع جارية بالفعل لهذا الفيديو.",
        ),
        Code::DirectUploadOff => (
            "Direct uploads to storage are not available on this server.",
            "Прямая загрузка в хранилище на этом сервере недоступна.",
            "الرفع المباشر إلى مساحة التخزين غير متاح على هذا الخادم.",
        ),
        Code::UploadIncomplete => (
            "Some parts of the file are missing; upload them and try again.",
            "Некоторые части файла не загружены; загрузите их и повторите попытку.",
            "بعض أجزاء الملف مفقودة؛ يُرجى رفعها والمحاولة مجددًا.",
        ),
        Code::PartMismatch => (
            "A part of the file has the wrong size; upload it again.",
            "Одна из частей файла имеет неверный размер; загрузите её заново.",
            "أحد أجزاء الملف بحجم غير صحيح؛ يُرجى رفعه مجددًا.",
        ),
        Code::UploadExpired => (
            "The upload was not finished in time and has been removed.",
            "Загрузка не была завершена вовремя, и её данные удалены.",
            "لم يكتمل الرفع في الوقت المحدد، فحُذفت البيانات المرفوعة.",
        ),
        Code::UnsupportedTusVersion => (
            "This version of the upload protocol is not supported.",
            "Эта версия протокола загрузки не поддерживается.",
            "هذا الإصدار من بروتوكول الرفع غير مدعوم.",
        ),
        Code::BodyTooLarge => (
            "The request is too large.",
            "Запрос слишком большой.",
            "حجم الطلب أكبر من المسموح به.",
        ),
        Code::TooLarge => (
            "The file is larger than this server allows.",
            "Файл больше, чем допускает этот сервер.",
            "حجم الملف أكبر من الحد المسموح به على هذا الخادم.",
        ),
        Code::QuotaExceeded => (
            "This file would exceed your storage quota.",
            "С этим файлом будет превышена ваша квота хранилища.",
            "سيتجاوز هذا الملف حصتك من مساحة التخزين.",
        ),
        Code::TooManyFields => (
            "The form has too many fields.",
            "В форме слишком много полей.",
            "يحتوي النموذج على حقول أكثر من المسموح به.",
        ),
        Code::FieldsTooLarge => (
            "The text in the form's fields is too long.",
            "Текст в полях формы слишком длинный.",
            "النصوص في حقول النموذج أطول من المسموح به.",
        ),
        Code::UnsupportedMediaType => (
            "This type of content is not accepted here.",
            "Данные такого типа здесь не принимаются.",
            "هذا النوع من المحتوى غير مقبول هنا.",
        ),
        Code::NotAnImage => (
            "The file is not a JPEG, PNG or WebP picture, or the picture is too large.",
            "Файл не является изображением JPEG, PNG или WebP, либо изображение слишком большое.",
            "الملف ليس صورة بصيغة JPEG أو PNG أو WebP، أو أن أبعاد الصورة كبيرة جدًا.",
        ),
        Code::InvalidRange => (
            "The requested part of the file does not exist.",
            "Запрошенной части файла не существует.",
            "الجزء المطلوب من الملف غير موجود.",
        ),
        Code::UploadBusy => (
            "This upload is busy with another request; try again shortly.",
            "Эта загрузка сейчас занята другим запросом; повторите попытку чуть позже.",
            "عملية الرفع هذه مشغولة بطلب آخر؛ يُرجى المحاولة بعد قليل.",
        ),
        Code::TooManyRequests => (
            "Too many requests at once; try again shortly.",
            "Слишком много запросов одновременно; повторите попытку чуть позже.",
            "عدد الطلبات المتزامنة كبير جدًا؛ يُرجى المحاولة بعد قليل.",
        ),
        Code::TooManyAttempts => (
            "Too many failed sign-in attempts; try again later.",
            "Слишком много неудачных попыток входа; попробуйте позже.",
            "تجاوزت محاولات تسجيل الدخول الفاشلة الحد المسموح به؛ يُرجى المحاولة لاحقًا.",
        ),
        Code::TooManyRegistrations => (
            "Too many accounts were created from this network; try again later.",
            "Из этой сети создано слишком много аккаунтов; попробуйте позже.",
            "أُنشئ عدد كبير من الحسابات من هذه الشبكة؛ يُرجى المحاولة لاحقًا.",
        ),
        Code::TooManyUploads => (
            "You have too many unfinished uploads; finish or cancel some of them first.",
            "У вас слишком много незавершённых загрузок; сначала завершите или отмените часть из них.",
            "لديك عدد كبير من عمليات الرفع غير المكتملة؛ يُرجى إكمال بعضها أو إلغاء ما لا تحتاج إليه أولًا.",
        ),
        Code::TooManyWaiting => (
            "Too many of your videos are waiting to be processed; try again when some are done.",
            "Слишком много ваших видео ждут обработки; попробуйте снова, когда часть из них будет готова.",
            "كثير من مقاطع الفيديو الخاصة بك في انتظار المعالجة؛ يُرجى المحاولة مجددًا بعد اكتمال بعضها.",
        ),
        Code::TooManyActions => (
            "Too many actions in a short time; try again shortly.",
            "Слишком много действий подряд; попробуйте чуть позже.",
            "قمت بإجراءات كثيرة في وقت قصير؛ يُرجى المحاولة بعد قليل.",
        ),
        Code::TooManyImports => (
            "You have too many imports waiting; wait until some are done.",
            "Слишком много ваших импортов ждут очереди; дождитесь, пока часть завершится.",
            "لديك عمليات استيراد كثيرة قيد الانتظار؛ انتظر حتى يكتمل بعضها.",
        ),
        Code::TooManyTokens => (
            "You keep too many tokens; revoke one first.",
            "У вас слишком много токенов; сначала отзовите один.",
            "لديك رموز كثيرة جدًا؛ ألغِ أحدها أولًا.",
        ),
        Code::TooManyMails => (
            "Too many e-mails were requested; try again later.",
            "Запрошено слишком много писем; попробуйте позже.",
            "طُلب عدد كبير من رسائل البريد الإلكتروني؛ يُرجى المحاولة لاحقًا.",
        ),
        Code::ChecksumMismatch => (
            "The data was damaged on the way; send this part again.",
            "Данные повреждены при передаче; отправьте эту часть ещё раз.",
            "تلفت البيانات أثناء النقل؛ يُرجى إرسال هذا الجزء مجددًا.",
        ),
        Code::Internal => (
            "Something went wrong on the server; try again later.",
            "На сервере произошла ошибка; попробуйте позже.",
            "حدث خطأ في الخادم؛ يُرجى المحاولة لاحقًا.",
        ),
        Code::FormatUnsupported => (
            "Only the JSON format is offered.",
            "Доступен только формат JSON.",
            "لا يتوفر إلا تنسيق JSON.",
        ),
        Code::Unavailable => (
            "The service is temporarily unavailable; try again shortly.",
            "Сервис временно недоступен; попробуйте чуть позже.",
            "الخدمة غير متاحة مؤقتًا؛ يُرجى المحاولة بعد قليل.",
        ),
        Code::Busy => (
            "The server is busy; try again shortly.",
            "Сервер перегружен; попробуйте чуть позже.",
            "الخادم مشغول حاليًا؛ يُرجى المحاولة بعد قليل.",
        ),
    }
}

/// (English, Russian, Arabic), with the terms of [`code_words`].
fn failure_words(failure: Failure) -> (&'static str, &'static str, &'static str) {
    match failure {
        Failure::EmptyFile => ("The file is empty.", "Файл пуст.", "الملف فارغ."),
        Failure::NotAVideo => (
            "The file is not a video in a format this server can read.",
            "Файл не является видео в поддерживаемом формате.",
            "الملف ليس فيديو بصيغة يستطيع هذا الخادم قراءتها.",
        ),
        Failure::NoVideoStream => (
            "The file contains no video track.",
            "В файле нет видеодорожки.",
            "لا يحتوي الملف على مسار فيديو.",
        ),
        Failure::UnsupportedCodec => (
            "The video uses a codec this server cannot decode.",
            "Видео закодировано кодеком, который этот сервер не поддерживает.",
            "الفيديو مرمّز بترميز لا يدعمه هذا الخادم.",
        ),
        Failure::Undecodable => (
            "The video could not be decoded: the file may be damaged.",
            "Не удалось декодировать видео: возможно, файл повреждён.",
            "تعذّر فك ترميز الفيديو: قد يكون الملف تالفًا.",
        ),
        Failure::Truncated => (
            "The file is cut short: the video breaks off before its end.",
            "Файл обрезан: видео обрывается раньше времени.",
            "الملف ناقص: ينقطع الفيديو قبل نهايته.",
        ),
        Failure::TooLong => (
            "The video is longer than this server allows.",
            "Видео длиннее, чем допускает этот сервер.",
            "مدة الفيديو أطول من المسموح به على هذا الخادم.",
        ),
        Failure::TooManyPixels => (
            "The video's resolution is higher than this server allows.",
            "Разрешение видео выше, чем допускает этот сервер.",
            "دقة الفيديو أعلى من المسموح به على هذا الخادم.",
        ),
        Failure::TooManyFramesPerSecond => (
            "The video's frame rate is higher than this server allows.",
            "Частота кадров видео выше, чем допускает этот сервер.",
            "معدل إطارات الفيديو أعلى من المسموح به على هذا الخادم.",
        ),
        Failure::TooManyStreams => (
            "The file has more tracks than this server allows.",
            "В файле больше дорожек, чем допускает этот сервер.",
            "يحتوي الملف على مسارات أكثر من المسموح به على هذا الخادم.",
        ),
        Failure::Stalled => (
            "Processing stalled and was stopped.",
            "Обработка зависла и была остановлена.",
            "تعثّرت معالجة الفيديو فأُوقفت.",
        ),
        Failure::TooSlow => (
            "Processing took too long and was stopped.",
            "Обработка заняла слишком много времени и была остановлена.",
            "استغرقت المعالجة وقتًا أطول من اللازم فأُوقفت.",
        ),
        Failure::SourceNotAllowed => (
            "The link leads to an address this server does not fetch from.",
            "Ссылка ведёт на адрес, с которого этот сервер не загружает.",
            "يؤدي الرابط إلى عنوان لا يجلب منه هذا الخادم.",
        ),
        Failure::SourceUnavailable => (
            "The file could not be fetched from its link.",
            "Не удалось загрузить файл по ссылке.",
            "تعذّر جلب الملف من رابطه.",
        ),
        Failure::SourceTooLarge => (
            "The file at the link is larger than this server or your quota allows.",
            "Файл по ссылке больше, чем допускает сервер или ваша квота.",
            "الملف الموجود في الرابط أكبر مما يسمح به الخادم أو حصتك.",
        ),
        Failure::FetchTimedOut => (
            "Fetching the file took too long and was stopped.",
            "Загрузка файла заняла слишком много времени и была остановлена.",
            "استغرق جلب الملف وقتًا أطول من اللازم فأُوقف.",
        ),
        Failure::ProcessingFailed => (
            "The video could not be processed because of a server problem; try again later.",
            "Не удалось обработать видео из-за ошибки на сервере; попробуйте позже.",
            "تعذّرت معالجة الفيديو بسبب مشكلة في الخادم؛ يُرجى المحاولة لاحقًا.",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_arabic_letter(c: char) -> bool {
        ('\u{0621}'..='\u{064A}').contains(&c)
    }

    fn is_cyrillic(c: char) -> bool {
        ('\u{0400}'..='\u{04FF}').contains(&c)
    }

    /// Every title: present, a sentence, in its own script, without placeholders or stray
    /// spaces, and distinct from the others in its language.
    fn check_titles(what: &str, titles: &[(&'static str, [&'static str; 3])]) {
        for locale in Locale::ALL {
            let mut seen = std::collections::HashMap::new();
            for (code, words) in titles {
                let title = words[locale.index()];
                assert!(!title.trim().is_empty(), "{what} {code} {locale}: empty");
                assert_eq!(title.trim(), title, "{what} {code} {locale}: spaces");
                assert!(
                    !title.contains(['{', '}', '\n', '\t']),
                    "{what} {code} {locale}: {title}"
                );
                assert!(title.ends_with('.'), "{what} {code} {locale}: {title}");
                assert!(
                    !title.contains("  ") && !title.contains(" ."),
                    "{what} {code} {locale}: {title}"
                );
                match locale {
                    Locale::En => assert!(title.is_ascii(), "{what} {code} en: {title}"),
                    Locale::Ru => {
                        assert!(title.chars().any(is_cyrillic), "{what} {code} ru: {title}");
                        assert!(!title.chars().any(is_arabic_letter), "{what} {code} ru");
                    }
                    Locale::Ar => {
                        assert!(
                            title.chars().any(is_arabic_letter),
                            "{what} {code} ar: {title}"
                        );
                        assert!(!title.chars().any(is_cyrillic), "{what} {code} ar");
                        // Arabic punctuation between Arabic words.
                        assert!(
                            !title.contains(", ") && !title.contains("; "),
                            "{what} {code} ar: {title}"
                        );
                    }
                }
                if let Some(other) = seen.insert(title, code) {
                    panic!("{what} {code} and {other} share the {locale} title {title}");
                }
            }
        }
    }

    #[test]
    fn every_code_has_three_titles() {
        let titles: Vec<_> = Code::ALL
            .iter()
            .map(|&c| (c.as_str(), Locale::ALL.map(|l| code_title(c, l))))
            .collect();
        assert_eq!(titles.len(), Code::ALL.len());
        check_titles("code", &titles);
        assert_eq!(
            code_title(Code::CommentsOff, Locale::En),
            "Comments are turned off for this video."
        );
        assert_eq!(
            code_title(Code::CommentsOff, Locale::Ru),
            "Комментарии к этому видео отключены."
        );
    }

    #[test]
    fn every_failure_has_three_titles() {
        let titles: Vec<_> = Failure::ALL
            .iter()
            .map(|&f| (f.as_str(), Locale::ALL.map(|l| failure_title(f, l))))
            .collect();
        check_titles("failure", &titles);
    }

    #[test]
    fn tags_parse_by_primary_subtag() {
        for (tag, want) in [
            ("en", Some(Locale::En)),
            ("ru", Some(Locale::Ru)),
            ("ar", Some(Locale::Ar)),
            ("ru-RU", Some(Locale::Ru)),
            ("AR_eg", Some(Locale::Ar)),
            ("en-GB", Some(Locale::En)),
            ("EN", Some(Locale::En)),
            (" ru ", Some(Locale::Ru)),
            ("ar-Arab-EG", Some(Locale::Ar)),
            ("fr", None),
            ("eng", None),
            ("", None),
            ("*", None),
            ("ru-", None),
            ("-ru", None),
            ("ru RU", None),
            ("руs", None),
        ] {
            assert_eq!(Locale::parse(tag), want, "{tag:?}");
        }
        for l in Locale::ALL {
            assert_eq!(Locale::parse(l.as_str()), Some(l));
            assert_eq!(l.to_string(), l.as_str());
        }
    }

    #[test]
    fn locale_basics() {
        assert_eq!(Locale::default(), Locale::En);
        assert!(Locale::Ar.is_rtl());
        assert!(!Locale::En.is_rtl() && !Locale::Ru.is_rtl());
        assert_eq!(
            serde_json::to_string(&Locale::ALL).unwrap_or_default(),
            r#"["en","ru","ar"]"#
        );
        assert_eq!(
            serde_json::from_str::<Locale>(r#""ar""#).ok(),
            Some(Locale::Ar)
        );
        assert!(serde_json::from_str::<Locale>(r#""Ar""#).is_err());
    }

    #[test]
    fn negotiation_table() {
        use Locale::*;
        for (header, want) in [
            ("ar-EG,ar;q=0.9,en;q=0.8", Some(Ar)),
            ("fr-FR, ru;q=0.5", Some(Ru)),
            ("fr", None),
            ("*", Some(En)),
            ("en;q=0, ru;q=0.1", Some(Ru)),
            ("", None),
            ("   ", None),
            ("ru", Some(Ru)),
            ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", Some(Ru)),
            ("en-US,en;q=0.9", Some(En)),
            ("de-DE,de;q=0.9,ar;q=0.3,ru;q=0.2", Some(Ar)),
            // Weights beat order.
            ("en;q=0.5, ar", Some(Ar)),
            ("ru;q=0.8, en;q=0.9", Some(En)),
            // Equal weights: the one named first.
            ("ar, ru", Some(Ar)),
            ("ru;q=0.5, en;q=0.5", Some(Ru)),
            // A named locale beats one reached by `*` at the same weight.
            ("*, ar", Some(Ar)),
            ("*;q=0.5, ru;q=0.5", Some(Ru)),
            // `*` covers the locales not named; q=0 excludes.
            ("en;q=0, *", Some(Ru)),
            ("en;q=0, ru;q=0, *", Some(Ar)),
            ("en;q=0, ru;q=0, ar;q=0, *", None),
            ("*;q=0", None),
            ("*;q=0, ar;q=0.1", Some(Ar)),
            ("en;q=0", None),
            ("fr, *;q=0.1", Some(En)),
            // The highest weight among ranges of one language.
            ("ru-RU;q=0, ru;q=0.4, en;q=0.3", Some(Ru)),
            ("ru;q=0.2, ru-RU;q=0.9, en;q=0.5", Some(Ru)),
            // Case, spaces, underscores, empty list elements.
            ("  AR-eg ; Q=0.7 ,, , EN;q=0.2", Some(Ar)),
            (",,ru,,", Some(Ru)),
            ("ru_RU", Some(Ru)),
            // Malformed entries are skipped, the rest still counts.
            ("ru;q=2, en;q=0.5", Some(En)),
            ("ru;q=1.5, ar;q=0.1", Some(Ar)),
            ("ru;q=0.5000, ar;q=0.1", Some(Ar)),
            ("ru;q=.5, ar;q=0.1", Some(Ar)),
            ("ru;q=-1, ar;q=0.1", Some(Ar)),
            ("ru;q=, ar;q=0.1", Some(Ar)),
            ("ru;q=0.5;q=0.9, ar;q=0.1", Some(Ar)),
            ("ru;level=1, ar;q=0.1", Some(Ar)),
            ("ru;q = 0.5, ar;q=0.1", Some(Ar)),
            ("r u, ar;q=0.1", Some(Ar)),
            ("russian-federation, ar;q=0.1", Some(Ar)),
            ("ru-toolongsubtag, ar;q=0.1", Some(Ar)),
            ("1ru, ar;q=0.1", Some(Ar)),
            ("русский, ar;q=0.1", Some(Ar)),
            ("*-RU, ar;q=0.1", Some(Ar)),
            ("ru;q=1.000, ar", Some(Ru)),
            ("ru;q=1., ar;q=0.999", Some(Ru)),
            ("ru;q=0.001", Some(Ru)),
            ("ru;q=0.000", None),
            ("ru;", Some(Ru)),
            (";q=0.5", None),
            ("=;,,;;==", None),
            ("\u{0}\u{7f}ar", None),
        ] {
            assert_eq!(Locale::negotiate(header), want, "{header:?}");
        }
    }

    #[test]
    fn negotiation_is_bounded_on_hostile_headers() {
        let commas = ",".repeat(8 * 1024);
        assert_eq!(Locale::negotiate(&commas), None);
        // Past the pieces looked at: not seen.
        assert_eq!(Locale::negotiate(&format!("{commas}ru")), None);
        assert_eq!(Locale::negotiate(&format!("ru{commas}")), Some(Locale::Ru));
        // Only the first 32 entries count.
        let many = vec!["fr"; 32].join(",");
        assert_eq!(Locale::negotiate(&format!("{many},ru")), None);
        let fewer = vec!["fr"; 31].join(",");
        assert_eq!(Locale::negotiate(&format!("{fewer},ru")), Some(Locale::Ru));
        // Garbage of every kind, long entries, semicolons.
        let long = "a".repeat(8 * 1024);
        assert_eq!(Locale::negotiate(&long), None);
        assert_eq!(Locale::negotiate(&format!("{long},ar")), Some(Locale::Ar));
        let semis = format!("ru{}", ";".repeat(8 * 1024));
        assert_eq!(Locale::negotiate(&semis), Some(Locale::Ru));
        let qs = format!("ru{}", ";q=0.5".repeat(1000));
        assert_eq!(Locale::negotiate(&qs), None);
        let wild = "ar;q=0.1,".to_owned() + &"*;q=0,".repeat(1000);
        assert_eq!(Locale::negotiate(&wild), Some(Locale::Ar));
        let start = std::time::Instant::now();
        for header in [&commas, &long, &semis, &qs, &wild] {
            for _ in 0..100 {
                std::hint::black_box(Locale::negotiate(std::hint::black_box(header)));
            }
        }
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }
}
